from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = _("Trading")

    def ready(self) -> None:
        from trading import policies, steps  # noqa: F401  (register policy rules and step handlers)

        # Bid deposits (trading/deposits/): policy rules, step handlers, refund triggers.
        from trading.deposits import policies as deposit_policies  # noqa: F401
        from trading.deposits import receivers as deposit_receivers  # noqa: F401
        from trading.deposits import steps as deposit_steps  # noqa: F401

        # Sealed bids and the opening: policy rules, step handlers, the deadline hook.
        from trading.opening import policies as opening_policies  # noqa: F401
        from trading.opening import steps as opening_steps  # noqa: F401

        # Record retention (政府采购法 Art 42): no record of a published tender deleted inside its period.
        from trading.retention import retention_connect

        retention_connect()
