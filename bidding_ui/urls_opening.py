"""Sealed-bid and opening pages."""

from django.urls import path

from bidding_ui import views_opening as v

app_name = "opening"

urlpatterns = [
    path("keys/", v.keys_page, name="keys"),
    path("bidder/lots/<int:pk>/bid/", v.bid_page, name="bid"),
    path("opening/<int:pk>/", v.room_page, name="room"),
    path("opening/<int:pk>/record/", v.record_page, name="record"),
]
