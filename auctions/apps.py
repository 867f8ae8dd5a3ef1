from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuctionsConfig(AppConfig):
    name = "auctions"
    verbose_name = _("Land-use rights and state-asset auctions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Policy rules, the supervision warning source and the deposits' refund origin register
        # themselves on import.
        from auctions import policies, refunds, supervision  # noqa: F401
