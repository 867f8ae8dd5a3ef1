from django.apps import AppConfig


class BiddingUiConfig(AppConfig):
    name = "bidding_ui"

    def ready(self) -> None:
        from bidding_ui.page_cache import connect_invalidation

        connect_invalidation()
