from django.urls import path

from credit import api

urlpatterns = [
    path("credit/records", api.RecordListView.as_view(), name="api-credit-records"),
    path("credit/records/<str:number>", api.RecordDetailView.as_view(), name="api-credit-record"),
    path("credit/records/<str:number>/decide", api.RecordDecideView.as_view(), name="api-credit-decide"),
    path("credit/records/<str:number>/requests", api.RecordRequestView.as_view(), name="api-credit-request"),
    path("credit/requests/<int:pk>/decide", api.RequestDecideView.as_view(), name="api-credit-request-decide"),
]
