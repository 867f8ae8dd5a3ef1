from django.urls import path

from bidding_ui import views_experts as views

app_name = "experts"

urlpatterns = [
    path("agent/draws/", views.agent_draws, name="agent_draws"),
    path("agent/draws/new/", views.agent_draw_new, name="agent_draw_new"),
    path("agent/draws/<int:pk>/", views.agent_draw, name="agent_draw"),
    path("agent/draws/<int:pk>/cancel/", views.agent_draw_cancel, name="agent_draw_cancel"),
    path("expert/assignments/", views.expert_inbox, name="inbox"),
    path("expert/assignments/<int:pk>/accept/", views.expert_answer, {"decision": "accept"},
         name="assignment_accept"),
    path("expert/assignments/<int:pk>/decline/", views.expert_answer, {"decision": "decline"},
         name="assignment_decline"),
    path("expert/assignments/<int:pk>/leave/", views.expert_answer, {"decision": "leave"},
         name="assignment_leave"),
    path("expert/respond/<str:token>/", views.expert_respond, name="respond"),
    path("draws/<int:pk>/record/", views.draw_record, name="draw_record"),
    path("supervisor/draws/", views.supervisor_draws, name="supervisor_draws"),
    path("supervisor/draws/<int:pk>/", views.supervisor_draw, name="supervisor_draw"),
    path("supervisor/draws/<int:pk>/replay/", views.supervisor_draw_replay, name="supervisor_replay"),
    path("supervisor/draws/<int:pk>/reveal/", views.supervisor_draw_action, {"action": "reveal"},
         name="supervisor_reveal"),
    path("supervisor/draws/<int:pk>/reveal-seed/", views.supervisor_draw_action, {"action": "reveal-seed"},
         name="supervisor_reveal_seed"),
    path("supervisor/draws/<int:pk>/cancel/", views.supervisor_draw_action, {"action": "cancel"},
         name="supervisor_cancel"),
    path("supervisor/draw-warnings/<int:pk>/acknowledge/", views.supervisor_warning_ack,
         name="supervisor_warning_ack"),
]
