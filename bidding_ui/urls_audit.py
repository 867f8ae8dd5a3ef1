"""Supervision pages: live dashboard, audit-trail replay, collusion signals (bidding_ui/views_audit.py)."""

from django.urls import path

from bidding_ui import views_audit as v

app_name = "supervision"

urlpatterns = [
    path("supervisor/", v.dashboard, name="dashboard"),
    path("supervisor/tenders/<int:pk>/replay/", v.tender_replay_page, name="tender_replay"),
    path("supervisor/tenders/<int:pk>/signals/", v.tender_signals, name="tender_signals"),
    path("supervisor/tenders/<int:pk>/signals/compute/", v.tender_signals_compute, name="tender_signals_compute"),
    path("audit/witnessed/", v.witnessed_feed, name="witnessed_feed"),  # public (anchoring feed)
]
