from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # policies: the rules of accounts.policy; witnessing: sends each new checkpoint to the
        # witnesses (registers itself with audit.checkpoints.CHECKPOINT_SIGNED).
        from audit import guard, policies, witnessing  # noqa: F401

        guard.install()
