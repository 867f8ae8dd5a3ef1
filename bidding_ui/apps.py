from django.apps import AppConfig


class BiddingUiConfig(AppConfig):
    name = "bidding_ui"
