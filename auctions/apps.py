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

        _register_open_data()


def _register_open_data() -> None:
    """The "auction" open data source (trading.ocds.sources, docs/ocds.md "Open data sources"): the
    documents the API serves, `GET /api/v1/auctions/ocds` and `GET /api/v1/auctions/<id>/ocds` of every
    published result, for `manage.py ocds_validate`."""
    from django.urls import reverse

    from auctions import opendata, selectors
    from trading.ocds.sources import OpenDataSource, source_register

    def published():
        return selectors.results_public().select_related("relisted_from")

    def one(trade, ctx):
        uri = ctx.url(reverse("api-auction-ocds", args=[trade.public_id]))
        return [(f"{trade.code} release package", opendata.results_package([trade], uri=uri, ctx=ctx))]

    def every(ctx):
        uri = ctx.url(reverse("api-auctions-ocds"))
        return [("auction results release package", opendata.results_package(published(), uri=uri, ctx=ctx))]

    source_register(OpenDataSource(key="auction", noun="published auction result", published=published,
                                   process_packages=one, list_packages=every))
