from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    """Live supervision (电子监察), collusion signals and the replay reducers of the tender's
    domain events (docs/architecture.md, "Layers"): above trading, experts and evaluation, which
    it reads; nothing below imports it."""

    name = "supervision"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the policy rules, the `collusion_check` step handler (trading.steps), the beat
        # task with Celery, and the tender reducers with the audit replay engine, in every process.
        from supervision import collusion, policies, replay_reducers, tasks  # noqa: F401
