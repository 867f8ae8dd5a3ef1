"""Opening API routes (included by trading/urls.py under /api/v1/)."""

from django.urls import path

from trading.opening import api as v

urlpatterns = [
    path("tenders/<int:pk>/opening", v.RoomView.as_view(), name="api-opening"),
    path("tenders/<int:pk>/opening/events", v.RoomEventsView.as_view(), name="api-opening-events"),
    path("tenders/<int:pk>/opening/commands", v.RoomCommandView.as_view(), name="api-opening-commands"),
    path("tenders/<int:pk>/opening/record", v.RecordView.as_view(), name="api-opening-record"),
    path("tenders/<int:pk>/opening/record.pdf", v.RecordPdfView.as_view(), name="api-opening-record-pdf"),
]
