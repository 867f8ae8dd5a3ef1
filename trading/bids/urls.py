"""Sealed-bid API routes (included by trading/urls.py under /api/v1/)."""

from django.urls import path

from trading.bids import api as v

urlpatterns = [
    path("tenders/<int:tender_id>/lots/<int:lot_id>/bids", v.bid_upload_view, name="api-bid-upload"),
    path("lots/<int:pk>/opening-key", v.LotOpeningKeyView.as_view(), name="api-lot-opening-key"),
    path("keys", v.KeyListView.as_view(), name="api-keys"),
    path("keys/<int:pk>/revoke", v.KeyRevokeView.as_view(), name="api-key-revoke"),
    path("bids/mine", v.MyBidListView.as_view(), name="api-my-bids"),
    path("bids/<uuid:pk>", v.BidDetailView.as_view(), name="api-bid"),
    path("bids/<uuid:pk>/withdraw", v.BidWithdrawView.as_view(), name="api-bid-withdraw"),
    path("bids/<uuid:pk>/header", v.BidHeaderView.as_view(), name="api-bid-header"),
    path("custodian/shares", v.MyShareListView.as_view(), name="api-custodian-shares"),
]
