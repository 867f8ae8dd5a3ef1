from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    """Evaluation, candidate publicity, award and contract (app label `evaluation`)."""

    name = "trading.evaluation"
    label = "evaluation"
    verbose_name = _("Evaluation and award")

    def ready(self) -> None:
        from trading.evaluation import policies, steps  # noqa: F401  (register policy rules and step handlers)
        from trading.evaluation.services import criteria  # noqa: F401  (registers its publish-time check)
