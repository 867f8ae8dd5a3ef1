"""Deposits API routes under /api/v1/deposits/ (included by trading/urls.py)."""

from django.urls import path

from trading.deposits import api as v

urlpatterns = [
    # the bank (HMAC-signed, no user)
    path("deposits/bank-notifications", v.BankNotificationView.as_view(), name="api-deposit-bank-notifications"),
    path("deposits/bank/refund-instructions", v.BankRefundExportView.as_view(), name="api-deposit-bank-refunds"),
    # bidders
    path("deposits/mine", v.MyAccountsView.as_view(), name="api-deposits-mine"),
    path("deposits/accounts/<uuid:pk>", v.AccountDetailView.as_view(), name="api-deposit-account"),
    path("deposits/accounts/<uuid:pk>/guarantee", v.GuaranteeView.as_view(), name="api-deposit-guarantee"),
    path("deposits/registrations/<uuid:pk>", v.RegistrationDepositView.as_view(), name="api-deposit-registration"),
    # the tender's list (sealed until the deadline)
    path("deposits/tenders/<int:pk>", v.TenderDepositsView.as_view(), name="api-deposit-tender"),
    # platform administrator
    path("deposits/suspense", v.SuspenseListView.as_view(), name="api-deposit-suspense"),
    path("deposits/suspense/<int:pk>/resolve", v.SuspenseResolveView.as_view(), name="api-deposit-suspense-resolve"),
    path("deposits/statements", v.StatementListView.as_view(), name="api-deposit-statements"),
    path("deposits/statements/<int:pk>/reconciliation", v.ReconciliationView.as_view(),
         name="api-deposit-reconciliation"),
    path("deposits/refund-instructions", v.RefundInstructionListView.as_view(), name="api-deposit-refunds"),
    path("deposits/refund-instructions/export", v.RefundExportView.as_view(), name="api-deposit-refunds-export"),
    path("deposits/refund-instructions/<str:reference>/reissue", v.RefundReissueView.as_view(),
         name="api-deposit-refund-reissue"),
    path("deposits/guarantee-issuers", v.IssuerListView.as_view(), name="api-deposit-issuers"),
    path("deposits/guarantee-issuers/<int:pk>/revoke", v.IssuerRevokeView.as_view(), name="api-deposit-issuer-revoke"),
    # supervisors
    path("deposits/warnings", v.WarningListView.as_view(), name="api-deposit-warnings"),
    path("deposits/warnings/<int:pk>/acknowledge", v.WarningAcknowledgeView.as_view(),
         name="api-deposit-warning-ack"),
]
