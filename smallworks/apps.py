from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmallworksConfig(AppConfig):
    name = "smallworks"
    verbose_name = _("Fixed-price comparison")

    def ready(self) -> None:
        # Policy rules, step handlers, warnings and the "fixed-price" open data source
        # (trading.ocds.sources) register themselves on import.
        from smallworks import opendata, policies, steps, supervision  # noqa: F401
