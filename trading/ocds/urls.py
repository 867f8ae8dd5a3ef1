from django.urls import path

from trading.ocds import views as v

urlpatterns = [
    path("ocds/releases", v.ReleasePackageView.as_view(), name="api-ocds-releases"),
    path("ocds/records/<str:ocid>", v.RecordPackageView.as_view(), name="api-ocds-record"),
    path("ocds/bulk", v.BulkView.as_view(), name="api-ocds-bulk"),
]
