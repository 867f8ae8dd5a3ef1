from django.urls import path

from experts import api

urlpatterns = [
    path("experts/specialties", api.SpecialtyListView.as_view(), name="api-expert-specialties"),
    path("experts/pool", api.PoolView.as_view(), name="api-expert-pool"),
    path("experts/pool/<int:pk>", api.ExpertDetailView.as_view(), name="api-expert"),
    path("experts/pool/<int:pk>/status", api.ExpertStatusView.as_view(), name="api-expert-status"),
    path("experts/pool/<int:pk>/employments", api.ExpertEmploymentView.as_view(), name="api-expert-employments"),
    path("experts/pool/<int:pk>/relatives", api.ExpertRelativeView.as_view(), name="api-expert-relatives"),
    path("experts/pool/<int:pk>/leaves", api.ExpertLeaveView.as_view(), name="api-expert-leaves"),
    path("experts/me/assignments", api.InboxView.as_view(), name="api-expert-inbox"),
    path("experts/me/leaves", api.ExpertLeaveView.as_view(), name="api-expert-my-leaves"),
    path("experts/assignments/<int:pk>", api.AssignmentView.as_view(), name="api-assignment"),
    path("experts/assignments/<int:pk>/accept", api.AssignmentAcceptView.as_view(), name="api-assignment-accept"),
    path("experts/assignments/<int:pk>/decline", api.AssignmentDeclineView.as_view(), name="api-assignment-decline"),
    path("experts/assignments/<int:pk>/leave", api.AssignmentLeaveView.as_view(), name="api-assignment-leave"),
    path("experts/assignments/<int:pk>/no-show", api.AssignmentNoShowView.as_view(), name="api-assignment-no-show"),
    path("experts/gateway/inbound", api.GatewayInboundView.as_view(), name="api-expert-gateway-inbound"),
    path("draws/", api.DrawListView.as_view(), name="api-draws"),
    path("draws/warnings", api.WarningListView.as_view(), name="api-draw-warnings"),
    path("draws/warnings/<int:pk>/acknowledge", api.WarningAcknowledgeView.as_view(), name="api-draw-warning-ack"),
    path("draws/<int:pk>", api.DrawDetailView.as_view(), name="api-draw"),
    path("draws/<int:pk>/cancel", api.DrawCancelView.as_view(), name="api-draw-cancel"),
    path("draws/<int:pk>/reveal", api.DrawRevealView.as_view(), name="api-draw-reveal"),
    path("draws/<int:pk>/reveal-seed", api.DrawRevealSeedView.as_view(), name="api-draw-reveal-seed"),
    path("draws/<int:pk>/record", api.DrawRecordView.as_view(), name="api-draw-record"),
    path("draws/<int:pk>/replay", api.DrawReplayView.as_view(), name="api-draw-replay"),
]
