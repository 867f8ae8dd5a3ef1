"""Evaluation pages: expert workspace, report, public results, objections and complaints, agent, supervision."""

from django.urls import path

from bidding_ui import views_evaluation as v

app_name = "evaluation"

urlpatterns = [
    # expert workspace
    path("expert/evaluations/", v.expert_home, name="expert_home"),
    path("expert/evaluations/<int:pk>/", v.expert_session, name="expert_session"),
    path("expert/evaluations/<int:pk>/sign-in/", v.expert_sign_in, name="expert_sign_in"),
    path("expert/evaluations/<int:pk>/declare/", v.expert_declare, name="expert_declare"),
    path("expert/evaluations/<int:pk>/marks/", v.expert_marks, name="expert_marks"),
    path("expert/evaluations/<int:pk>/scores/", v.expert_scores, name="expert_scores"),
    path("expert/evaluations/<int:pk>/submit/", v.expert_submit, name="expert_submit"),
    path("expert/evaluations/<int:pk>/sign-report/", v.expert_sign_report, name="expert_sign_report"),
    # reports and public results
    path("evaluation/reports/<int:pk>/", v.report_detail, name="report"),
    path("tenders/<int:pk>/results/", v.tender_results, name="tender_results"),
    # bidders
    path("bidder/tenders/<int:pk>/evaluation-objection/", v.bidder_object, name="bidder_object"),
    path("bidder/tenders/<int:pk>/complaint/", v.bidder_complain, name="bidder_complain"),
    path("bidder/objections-and-complaints/", v.bidder_status, name="bidder_status"),
    # agent
    path("agent/tenders/<int:pk>/evaluation/", v.agent_evaluation, name="agent_evaluation"),
    path("agent/tenders/<int:pk>/criteria/", v.agent_criteria, name="agent_criteria"),
    path("agent/tenders/<int:pk>/candidate-publicity/", v.agent_publicity, name="agent_publicity"),
    path("agent/tenders/<int:pk>/award/", v.agent_award, name="agent_award"),
    path("agent/lots/<int:lot_pk>/evaluation/open/", v.agent_open, name="agent_open"),
    path("agent/lots/<int:lot_pk>/award-next/", v.agent_award_next, name="agent_award_next"),
    path("agent/members/<int:member_pk>/replace/", v.agent_replace, name="agent_replace"),
    path("agent/evaluation-objections/<int:objection_pk>/reply/", v.agent_reply, name="agent_reply"),
    path("agent/awards/<int:award_pk>/decline/", v.agent_decline, name="agent_decline"),
    path("agent/awards/<int:award_pk>/contract/", v.agent_contract, name="agent_contract"),
    # supervision
    path("supervisor/complaints/", v.supervisor_complaints, name="supervisor_complaints"),
    path("supervisor/complaints/<int:pk>/<str:action>/", v.supervisor_complaint_action,
         name="supervisor_complaint_action"),
    path("supervisor/evaluations/<int:pk>/", v.supervisor_session, name="supervisor_session"),
]
