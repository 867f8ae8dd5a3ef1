"""The platform's URLs plus two slow views that hold a database connection (tests only)."""

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path


def slow(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [float(request.GET.get("s", "0.3"))])
    return JsonResponse({"ok": True})


urlpatterns = [
    path("api/v1/capacity-test/slow", slow),
    path("capacity-test/slow", slow),
    path("", include("config.urls")),
]
