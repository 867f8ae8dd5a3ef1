"""Deposit pages: bidders, the platform administrator, supervisors (views in bidding_ui/views_deposits.py)."""

from django.urls import path

from bidding_ui import views_deposits as v

app_name = "deposits"

urlpatterns = [
    # bidders
    path("bidder/deposits/", v.bidder_deposits, name="bidder_deposits"),
    path("bidder/deposits/<uuid:pk>/", v.bidder_deposit, name="bidder_deposit"),
    # a tender's deposit list (sealed until the deadline)
    path("tenders/<int:pk>/deposits/", v.tender_deposits, name="tender_deposits"),
    # platform administrator
    path("platform/deposits/", v.admin_desk, name="admin_desk"),
    path("platform/deposits/suspense/<int:pk>/resolve/", v.admin_suspense_resolve, name="admin_suspense_resolve"),
    path("platform/deposits/statements/", v.admin_statement_upload, name="admin_statement_upload"),
    path("platform/deposits/statements/<int:pk>/", v.admin_statement, name="admin_statement"),
    path("platform/deposits/refunds/export/", v.admin_refund_export, name="admin_refund_export"),
    path("platform/deposits/issuers/", v.admin_issuer_add, name="admin_issuer_add"),
    path("platform/deposits/issuers/<int:pk>/revoke/", v.admin_issuer_revoke, name="admin_issuer_revoke"),
    # supervisors
    path("supervisor/deposits/", v.supervisor_desk, name="supervisor_desk"),
    path("supervisor/deposits/warnings/<int:pk>/acknowledge/", v.supervisor_warning_ack, name="supervisor_warning_ack"),
]
