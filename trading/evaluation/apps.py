from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    """Evaluation, candidate publicity, award and contract (its own app label so its
    migrations stay independent of the tendering/bids/deposits ones)."""

    name = "trading.evaluation"
    label = "evaluation"
    verbose_name = _("Evaluation and award")

    def ready(self) -> None:
        import importlib

        for module in ("policies", "steps"):
            try:
                importlib.import_module(f"{self.name}.{module}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{self.name}.{module}":
                    raise
