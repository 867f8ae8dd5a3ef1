"""Trading API routes, included by config/urls.py under /api/v1/."""

from django.urls import include, path

from trading.api import views as v

urlpatterns = [
    path("tenders", v.TenderListView.as_view(), name="api-tenders"),
    path("tenders/<int:pk>", v.TenderDetailView.as_view(), name="api-tender"),
    path("tenders/<int:pk>/rule-check", v.TenderRuleCheckView.as_view(), name="api-tender-rule-check"),
    path("tenders/<int:pk>/publish", v.TenderPublishView.as_view(), name="api-tender-publish"),
    path("tenders/<int:pk>/lots", v.LotListView.as_view(), name="api-tender-lots"),
    path("tenders/<int:pk>/documents", v.DocumentListView.as_view(), name="api-tender-documents"),
    path("tenders/<int:pk>/archive", v.TenderArchiveView.as_view(), name="api-tender-archive"),
    path("tenders/<int:pk>/downloads", v.DownloadListView.as_view(), name="api-tender-downloads"),
    path("tenders/<int:pk>/notices", v.TenderNoticeView.as_view(), name="api-tender-notices"),
    path("tenders/<int:pk>/amendments", v.AmendmentView.as_view(), name="api-tender-amendments"),
    path(
        "tenders/<int:pk>/amendment-proposal", v.AmendmentProposalView.as_view(), name="api-tender-amendment-proposal"
    ),
    path("tenders/<int:pk>/registrations", v.TenderRegistrationListView.as_view(), name="api-tender-registrations"),
    path("tenders/<int:pk>/questions", v.QuestionListView.as_view(), name="api-tender-questions"),
    path("tenders/<int:pk>/objections", v.ObjectionListView.as_view(), name="api-tender-objections"),
    path("lots/<int:pk>", v.LotDetailView.as_view(), name="api-lot"),
    path("lots/<int:pk>/registrations", v.LotRegistrationView.as_view(), name="api-lot-register"),
    path("documents/<int:pk>", v.DocumentDetailView.as_view(), name="api-document"),
    path("documents/<int:pk>/download", v.DocumentDownloadView.as_view(), name="api-document-download"),
    path("notices", v.NoticeListView.as_view(), name="api-notices"),
    path("notices/<int:pk>", v.NoticeDetailView.as_view(), name="api-notice"),
    path("registrations/mine", v.MyRegistrationListView.as_view(), name="api-my-registrations"),
    path("registrations/<uuid:pk>", v.RegistrationDetailView.as_view(), name="api-registration"),
    path("registrations/<uuid:pk>/withdraw", v.RegistrationWithdrawView.as_view(), name="api-registration-withdraw"),
    path("questions/<int:pk>/answer", v.QuestionAnswerView.as_view(), name="api-question-answer"),
    path("objections/overdue", v.OverdueObjectionListView.as_view(), name="api-objections-overdue"),
    path("objections/<int:pk>/reply", v.ObjectionReplyView.as_view(), name="api-objection-reply"),
]
urlpatterns += [path("", include("trading.bids.urls"))]  # sealed bids: keys, upload, receipts
urlpatterns += [path("", include("trading.opening.urls"))]  # the opening room, its commands and the record
urlpatterns += [path("", include("trading.deposits.urls"))]  # bid deposits: bank webhook, ledger, refunds
