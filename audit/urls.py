"""Audit API routes, included by config/urls.py under /api/v1/."""

from django.urls import path, re_path

from audit import api

urlpatterns = [
    path("audit/public-key", api.PublicKeyView.as_view(), name="audit-public-key"),
    re_path(r"^audit/checkpoints/?$", api.CheckpointListView.as_view(), name="audit-checkpoints"),
    path("audit/checkpoints/latest", api.CheckpointLatestView.as_view(), name="audit-checkpoint-latest"),
    path("audit/checkpoints/<int:tree_size>", api.CheckpointDetailView.as_view(), name="audit-checkpoint"),
    re_path(r"^audit/witnessed/?$", api.WitnessedCheckpointListView.as_view(), name="audit-witnessed"),
    path("audit/witnessed/latest", api.WitnessedCheckpointLatestView.as_view(), name="audit-witnessed-latest"),
    path("audit/proofs/inclusion", api.InclusionProofView.as_view(), name="audit-proof-inclusion"),
    path("audit/proofs/consistency", api.ConsistencyProofView.as_view(), name="audit-proof-consistency"),
    re_path(r"^audit/events/?$", api.EventListView.as_view(), name="audit-events"),
    path("audit/events/<int:seq>", api.EventDetailView.as_view(), name="audit-event"),
    path("audit/receipts/<str:receipt_id>", api.ReceiptProofView.as_view(), name="audit-receipt"),
    path("audit/export", api.ExportView.as_view(), name="audit-export"),
    # supervisor replay, live supervision, collusion signals
    path("audit/tenders/<int:tender>/replay", api.TenderReplayView.as_view(), name="audit-tender-replay"),
    path("audit/tenders/<int:tender>/collusion", api.TenderCollusionView.as_view(), name="audit-tender-collusion"),
    path("audit/collusion-signals/<int:signal>/confirm", api.CollusionSignalConfirmView.as_view(),
         name="audit-collusion-signal-confirm"),
    path("audit/supervision", api.SupervisionOverviewView.as_view(), name="audit-supervision"),
]
