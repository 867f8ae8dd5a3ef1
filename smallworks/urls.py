from django.urls import path

from smallworks import api

P = "fixed-price/projects/<uuid:pk>"
urlpatterns = [
    path("fixed-price/projects", api.ProjectListView.as_view(), name="api-fp-projects"),
    path(P, api.ProjectDetailView.as_view(), name="api-fp-project"),
    path(f"{P}/publish", api.ProjectPublishView.as_view(), name="api-fp-publish"),
    path(f"{P}/entries", api.EntryListView.as_view(), name="api-fp-entries"),
    path(f"{P}/review/publish", api.ReviewPublishView.as_view(), name="api-fp-review-publish"),
    path(f"{P}/objections", api.ObjectionView.as_view(), name="api-fp-objections"),
    path(f"{P}/drawing", api.DrawingView.as_view(), name="api-fp-drawing"),
    path(f"{P}/picks", api.PickListView.as_view(), name="api-fp-picks"),
    path(f"{P}/exclusions", api.ExclusionListView.as_view(), name="api-fp-exclusions"),
    path(f"{P}/contract", api.ContractView.as_view(), name="api-fp-contract"),
    path(f"{P}/complete", api.CompleteView.as_view(), name="api-fp-complete"),
    path(f"{P}/ocds", api.OpenDataView.as_view(), name="api-fp-ocds"),
    path("fixed-price/entries/<int:pk>/review", api.EntryReviewView.as_view(), name="api-fp-entry-review"),
    path("fixed-price/objections/<int:pk>/reply", api.ObjectionReplyView.as_view(), name="api-fp-objection-reply"),
    path("fixed-price/picks/<int:pk>/confirm", api.PickConfirmView.as_view(), name="api-fp-pick-confirm"),
    path("fixed-price/picks/<int:pk>/refuse", api.PickRefuseView.as_view(), name="api-fp-pick-refuse"),
    path("fixed-price/warnings", api.WarningListView.as_view(), name="api-fp-warnings"),
    path("fixed-price/warnings/<int:pk>/acknowledge", api.WarningAcknowledgeView.as_view(), name="api-fp-warning-ack"),
]
