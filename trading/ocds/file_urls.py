"""Plain files of the open data (not API resources, so outside /api/v1 and its OpenAPI document):
the platform's OCDS extensions that the packages declare, and the publication policy they link to."""

from django.urls import path

from trading.ocds import views as v

urlpatterns = [
    path("ocds/extensions/<str:name>/<path:path>", v.extension_file_view, name="ocds-extension-file"),
    path("ocds/publication-policy", v.publication_policy_view, name="ocds-publication-policy"),
]
