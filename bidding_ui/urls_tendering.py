"""Tendering pages: public portal, agent and bidder workspaces, supervision."""

from django.urls import path

from bidding_ui import views_tendering as v

app_name = "tendering"

urlpatterns = [
    # public portal
    path("notices/", v.notice_list, name="notice_list"),
    path("notices/<int:pk>/", v.notice_detail, name="notice_detail"),
    path("results/", v.results, name="results"),
    path("tenders/<int:pk>/", v.tender_detail, name="tender_detail"),
    path("tenders/documents/<int:pk>/download/", v.document_download, name="document_download"),
    # agent (and tenderer) workspace
    path("agent/", v.agent_home, name="agent_home"),
    path("agent/tenders/new/", v.agent_tender_new, name="agent_tender_new"),
    path("agent/tenders/<int:pk>/", v.agent_tender, name="agent_tender"),
    path("agent/tenders/<int:pk>/edit/", v.agent_tender_edit, name="agent_tender_edit"),
    path("agent/tenders/<int:pk>/lots/", v.agent_lot_add, name="agent_lot_add"),
    path("agent/tenders/<int:pk>/documents/", v.agent_document_upload, name="agent_document_upload"),
    path("agent/tenders/<int:pk>/publish/", v.agent_publish, name="agent_publish"),
    path("agent/tenders/<int:pk>/withdraw/", v.agent_withdraw_draft, name="agent_withdraw_draft"),
    path("agent/tenders/<int:pk>/amendment/", v.agent_amendment, name="agent_amendment"),
    path("agent/tenders/<int:pk>/notice/", v.agent_result_notice, name="agent_result_notice"),
    path("agent/lots/<int:pk>/edit/", v.agent_lot_edit, name="agent_lot_edit"),
    path("agent/lots/<int:pk>/delete/", v.agent_lot_delete, name="agent_lot_delete"),
    path("agent/documents/<int:pk>/withdraw/", v.agent_document_withdraw, name="agent_document_withdraw"),
    path("agent/questions/<int:pk>/answer/", v.agent_answer, name="agent_answer"),
    path("agent/objections/<int:pk>/reply/", v.agent_objection_reply, name="agent_objection_reply"),
    # bidder workspace
    path("bidder/", v.bidder_home, name="bidder_home"),
    path("bidder/lots/<int:pk>/register/", v.bidder_register, name="bidder_register"),
    path("bidder/registrations/<uuid:pk>/", v.bidder_registration, name="bidder_registration"),
    path(
        "bidder/registrations/<uuid:pk>/withdraw/", v.bidder_registration_withdraw, name="bidder_registration_withdraw"
    ),
    path("bidder/tenders/<int:pk>/ask/", v.bidder_ask, name="bidder_ask"),
    path("bidder/tenders/<int:pk>/object/", v.bidder_object, name="bidder_object"),
    # supervision
    path("supervisor/tenders/", v.supervisor_tenders, name="supervisor_tenders"),
    path("supervisor/tenders/<int:pk>/", v.supervisor_tender, name="supervisor_tender"),
]
