from django.urls import path

from smallworks import views

urlpatterns = [
    path("fixed-price/", views.project_list, name="smallworks-list"),
    path("fixed-price/<uuid:pk>/", views.project_detail, name="smallworks-project"),
    path("fixed-price/<uuid:pk>/register", views.project_register, name="smallworks-register"),
    path("fixed-price/<uuid:pk>/do/<str:action>", views.project_action, name="smallworks-action"),
    path("fixed-price/<uuid:pk>/entries/<int:entry_id>/review", views.entry_review, name="smallworks-review"),
    path("fixed-price/<uuid:pk>/objection", views.objection_raise, name="smallworks-objection"),
    path("fixed-price/<uuid:pk>/picks/<int:pick_id>/<str:answer>", views.pick_answer, name="smallworks-pick"),
    path("fixed-price/<uuid:pk>/room/", views.drawing_room, name="smallworks-room"),
    path("fixed-price/<uuid:pk>/drawing/", views.drawing_record, name="smallworks-record"),
]
