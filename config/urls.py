from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.api import MeView, TokenView
from config.api import api_not_found, handler400, handler403, handler404, handler500  # noqa: F401 - JSON in /api/

api_v1 = [
    path("auth/token", TokenView.as_view(), name="api-token"),
    path("me", MeView.as_view(), name="api-me"),
    path("", include("audit.urls")),
    path("", include("supervision.urls")),
    path("", include("trading.urls")),
    path("", include("experts.urls")),
    path("", include("trading.evaluation.urls")),
    path("", include("credit.urls")),
    path("", include("smallworks.urls")),
    path("", include("auctions.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the pages' CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    re_path(r"^api/", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("credit.urls_pages")),
    path("", include("smallworks.urls_pages")),
    path("open-data/", include("trading.ocds.file_urls")),  # OCDS extension files, publication policy
    path("auctions/", include("auctions.urls_pages")),
    path("", include("bidding_ui.urls")),
]
