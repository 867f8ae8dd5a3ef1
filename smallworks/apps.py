from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmallworksConfig(AppConfig):
    name = "smallworks"
    verbose_name = _("Fixed-price comparison")

    def ready(self) -> None:
        from smallworks import policies, steps, supervision  # noqa: F401  (policy rules, step handlers, warnings)
