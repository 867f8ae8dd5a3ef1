from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuctionsConfig(AppConfig):
    name = "auctions"
    verbose_name = _("Land-use rights and state-asset auctions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Policy rules and the supervision warning source register themselves on import.
        from auctions import policies, supervision  # noqa: F401
