from django.urls import path

from credit import views

urlpatterns = [
    path("credit/", views.query, name="credit-query"),
    path("credit/supervise/", views.supervise, name="credit-supervise"),
    path("credit/records/<str:number>/", views.record_detail, name="credit-record"),
    path("credit/records/<str:number>/decide", views.record_decide, name="credit-record-decide"),
    path("credit/records/<str:number>/request", views.record_request, name="credit-record-request"),
    path("credit/requests/<int:pk>/decide", views.request_decide, name="credit-request-decide"),
]
