"""API routes of the auctions app (included under /api/v1/ by config/urls.py)."""

from django.urls import path

from auctions import api

urlpatterns = [
    path("auctions", api.TradeListView.as_view(), name="api-auctions"),
    path("auctions/results", api.ResultsView.as_view(), name="api-auction-results"),
    path("auctions/ocds", api.OcdsResultsView.as_view(), name="api-auctions-ocds"),
    path("auctions/bank/arrivals", api.BankArrivalView.as_view(), name="api-auction-bank-arrival"),
    path("auctions/<uuid:pk>", api.TradeDetailView.as_view(), name="api-auction"),
    path("auctions/<uuid:pk>/reserve", api.ReserveView.as_view(), name="api-auction-reserve"),
    path("auctions/<uuid:pk>/publish", api.PublishView.as_view(), name="api-auction-publish"),
    path("auctions/<uuid:pk>/increment", api.IncrementView.as_view(), name="api-auction-increment"),
    path("auctions/<uuid:pk>/relist", api.RelistView.as_view(), name="api-auction-relist"),
    path("auctions/<uuid:pk>/result", api.ResultPublishView.as_view(), name="api-auction-result"),
    path("auctions/<uuid:pk>/applications", api.ApplicationsView.as_view(), name="api-auction-applications"),
    path("auctions/<uuid:pk>/applications/<uuid:buyer_id>/review", api.ReviewView.as_view(),
         name="api-auction-review"),
    path("auctions/<uuid:pk>/my-application", api.MyApplicationView.as_view(), name="api-auction-mine"),
    path("auctions/<uuid:pk>/live-round", api.LiveRoundView.as_view(), name="api-auction-live-round"),
    path("auctions/<uuid:pk>/bids", api.BidView.as_view(), name="api-auction-bids"),
    path("auctions/<uuid:pk>/room", api.RoomView.as_view(), name="api-auction-room"),
    path("auctions/<uuid:pk>/room/events", api.RoomEventsView.as_view(), name="api-auction-room-events"),
    path("auctions/<uuid:pk>/shares", api.ShareView.as_view(), name="api-auction-shares"),
    path("auctions/<uuid:pk>/confirmation", api.ConfirmationView.as_view(), name="api-auction-confirmation"),
    path("auctions/<uuid:pk>/confirmation.pdf", api.ConfirmationPdfView.as_view(), name="api-auction-confirmation-pdf"),
    path("auctions/<uuid:pk>/ocds", api.OcdsTradeView.as_view(), name="api-auction-ocds"),
    path("auctions/<uuid:pk>/replay", api.ReplayView.as_view(), name="api-auction-replay"),
]
