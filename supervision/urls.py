"""Supervision API routes, included by config/urls.py under /api/v1/ (paths under audit/, as before)."""

from django.urls import path

from supervision import api

urlpatterns = [
    path("audit/tenders/<int:tender>/collusion", api.TenderCollusionView.as_view(), name="audit-tender-collusion"),
    path("audit/collusion-signals/<int:signal>/confirm", api.CollusionSignalConfirmView.as_view(),
         name="audit-collusion-signal-confirm"),
    path("audit/supervision", api.SupervisionOverviewView.as_view(), name="audit-supervision"),
]
