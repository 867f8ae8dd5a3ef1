"""Public OCDS endpoints: release packages per tender, records per ocid, the streamed bulk file."""

from __future__ import annotations

from pathlib import Path

from django.http import Http404, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError, NotFoundError
from trading.ocds import packages
from trading.ocds.mapping import Context, request_context


def _context(request) -> Context:
    return request_context(request)


@extend_schema(tags=["open data"])
class ReleasePackageView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        parameters=[OpenApiParameter("tender", str, required=True, description="Tender id or code")],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiResponse(description="tender missing"),
                   404: OpenApiResponse(description="No published tender")},
        summary="OCDS 1.1 release package of one published tender (tender, award, contract releases)",
    )
    def get(self, request):
        key = (request.query_params.get("tender") or "").strip()
        if not key:
            raise DomainError(_("Give ?tender=<id or code>; every tender is in /api/v1/ocds/bulk."),
                              fields={"tender": ["required"]})
        qs = packages.published_tenders()
        tender = qs.filter(pk=int(key)).first() if key.isdigit() else None
        tender = tender or qs.filter(code=key).first()
        if tender is None:
            raise NotFoundError(_("No published tender %(t)s.") % {"t": key})
        return Response(packages.release_package([tender], uri=request.build_absolute_uri(), ctx=_context(request)))


@extend_schema(tags=["open data"])
class RecordPackageView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="Unknown ocid")},
                   summary="OCDS 1.1 record package: the releases and the compiled release of an ocid")
    def get(self, request, ocid: str):
        tender = packages.tender_by_ocid(ocid)
        if tender is None:
            raise NotFoundError(_("No published tender has the ocid %(o)s.") % {"o": ocid})
        return Response(packages.record_package([tender], uri=request.build_absolute_uri(), ctx=_context(request)))


@extend_schema(tags=["open data"])
class BulkView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT},
                   summary="Bulk download: one release package of every published tender (streamed JSON)")
    def get(self, request):
        stream = packages.stream_release_package(uri=request.build_absolute_uri(), ctx=_context(request))
        response = StreamingHttpResponse(stream, content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="ocds-release-package.json"'
        return response


# --- plain files: the platform's OCDS extensions and its publication policy (not API resources) ---

CONTENT_TYPES = {".json": "application/json", ".csv": "text/csv; charset=utf-8"}
POLICY_FILE = Path(__file__).resolve().parent / "publication_policy.md"


def extension_file_view(request, name: str, path: str) -> HttpResponse:
    """GET /open-data/ocds/extensions/<name>/<path>: a file of an extension the packages declare."""
    from trading.ocds.validation import extension_file

    file = extension_file(name, path)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if file is None:
        raise Http404("no such extension file")
    response = HttpResponse(file.read_bytes(), content_type=CONTENT_TYPES[file.suffix])
    response["Access-Control-Allow-Origin"] = "*"
    return response


def publication_policy_view(request) -> HttpResponse:
    """GET /open-data/ocds/publication-policy: the publication policy the packages link to."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(POLICY_FILE.read_bytes(), content_type="text/markdown; charset=utf-8")
