"""Evaluation, publicity, complaints, award and contract API routes (/api/v1/), and the OCDS ones."""

from django.urls import include, path

from trading.evaluation import api as v

urlpatterns = [
    path("tenders/<int:pk>/evaluation-criteria", v.CriteriaView.as_view(), name="api-evaluation-criteria"),
    path("lots/<int:pk>/evaluation", v.LotEvaluationView.as_view(), name="api-lot-evaluation"),
    path("evaluation/sessions", v.SessionListView.as_view(), name="api-evaluation-sessions"),
    path("evaluation/sessions/<int:pk>", v.SessionDetailView.as_view(), name="api-evaluation-session"),
    path("evaluation/sessions/<int:pk>/sign-in", v.SignInView.as_view(), name="api-evaluation-sign-in"),
    path("evaluation/sessions/<int:pk>/declaration", v.DeclarationView.as_view(), name="api-evaluation-declaration"),
    path("evaluation/sessions/<int:pk>/bids", v.BidsView.as_view(), name="api-evaluation-bids"),
    path("evaluation/sessions/<int:pk>/sheet", v.MySheetView.as_view(), name="api-evaluation-sheet"),
    path("evaluation/sessions/<int:pk>/sheet/marks", v.MarksView.as_view(), name="api-evaluation-marks"),
    path("evaluation/sessions/<int:pk>/sheet/scores", v.ScoresView.as_view(), name="api-evaluation-scores"),
    path("evaluation/sessions/<int:pk>/sheet/submit", v.SubmitView.as_view(), name="api-evaluation-submit"),
    path("evaluation/sessions/<int:pk>/sheets", v.SheetsView.as_view(), name="api-evaluation-sheets"),
    path("evaluation/sessions/<int:pk>/report", v.SessionReportView.as_view(), name="api-evaluation-report"),
    path("evaluation/members/<int:pk>/replace", v.MemberReplaceView.as_view(), name="api-evaluation-replace"),
    path("evaluation/members/<int:pk>/rating", v.MemberRatingView.as_view(), name="api-evaluation-rating"),
    path("evaluation/reports/<int:pk>", v.ReportView.as_view(), name="api-report"),
    path("evaluation/reports/<int:pk>/sign", v.ReportSignView.as_view(), name="api-report-sign"),
    path("tenders/<int:pk>/candidate-publicity", v.PublicityView.as_view(), name="api-candidate-publicity"),
    path(
        "tenders/<int:pk>/publicity-objections",
        v.PublicityObjectionListView.as_view(),
        name="api-publicity-objections",
    ),
    path(
        "publicity-objections/<int:pk>/reply",
        v.PublicityObjectionReplyView.as_view(),
        name="api-publicity-objection-reply",
    ),
    path("tenders/<int:pk>/complaints", v.TenderComplaintListView.as_view(), name="api-tender-complaints"),
    path("complaints", v.ComplaintListView.as_view(), name="api-complaints"),
    path("complaints/<int:pk>", v.ComplaintDetailView.as_view(), name="api-complaint"),
    path("complaints/<int:pk>/accept", v.ComplaintAcceptView.as_view(), name="api-complaint-accept"),
    path("complaints/<int:pk>/reject", v.ComplaintRejectView.as_view(), name="api-complaint-reject"),
    path("complaints/<int:pk>/decide", v.ComplaintDecideView.as_view(), name="api-complaint-decide"),
    path("tenders/<int:pk>/award", v.AwardView.as_view(), name="api-tender-award"),
    path("tenders/<int:pk>/contracts", v.TenderContractsView.as_view(), name="api-tender-contracts"),
    path("awards/<int:pk>", v.AwardLetterView.as_view(), name="api-award"),
    path("awards/<int:pk>/decline", v.AwardDeclineView.as_view(), name="api-award-decline"),
    path("awards/<int:pk>/contract", v.ContractView.as_view(), name="api-award-contract"),
    path("lots/<int:pk>/award-next", v.AwardNextView.as_view(), name="api-lot-award-next"),
    # Open data (OCDS): its own module, included here so that config/ stays untouched.
    path("", include("trading.ocds.urls")),
]
