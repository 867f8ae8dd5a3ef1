from django.urls import path

from trading.ocds import views as v

urlpatterns = [
    path("ocds/releases", v.ReleasePackageView.as_view(), name="api-ocds-releases"),
    path("ocds/records/<str:ocid>", v.RecordPackageView.as_view(), name="api-ocds-record"),
    path("ocds/bulk", v.BulkView.as_view(), name="api-ocds-bulk"),
    path("ocds/extensions/<str:name>/<path:path>", v.extension_file_view, name="api-ocds-extension-file"),
    path("ocds/publication-policy", v.publication_policy_view, name="api-ocds-publication-policy"),
]
