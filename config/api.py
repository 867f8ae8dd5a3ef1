"""API conventions shared by every app (SPECS.md §3).

Every 4xx is `{"error": {"code", "message", "fields"}}`; lists are paginated.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DomainError
from config.inputs import datetime_problem


class InputDateTimeField(serializers.DateTimeField):
    """A date-time input within the platform's sane range (config/inputs.py: 2000–2100 UTC)."""

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        problem = datetime_problem(moment)
        if problem:
            raise serializers.ValidationError(problem, code="out_of_range")
        return moment


class DefaultPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


# The error responses every write endpoint documents in the OpenAPI document (`extend_schema(responses=...)`).
ERRORS: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(description="Invalid input or a legal rule refused it (the message names it)"),
    403: OpenApiResponse(description="Not permitted"),
    404: OpenApiResponse(description="Not found"),
    409: OpenApiResponse(description="Not possible in the current state"),
}


def validated(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> Any:
    """`data` validated by `serializer_class` (built with `kwargs`); invalid input raises the 400 error."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def _first_message(fields: Any) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(fields, list) and fields:
        return _first_message(fields[0])
    return str(fields)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a 5xx: a bug, left to Django's handler and logs
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        response.data = error_body("invalid", _first_message(fields), fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if isinstance(code, (dict, list)):
            code = "error"
        response.data = error_body(str(code), _flatten(detail) if isinstance(detail, str) else str(detail))
    return response


API_PREFIX = "/api/"
request_logger = logging.getLogger("django.request")


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_response(code: str, message: str, http_status: int, fields: dict[str, Any] | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=http_status,
                        json_dumps_params={"ensure_ascii": False})


def api_exception_response(request: HttpRequest, exc: BaseException) -> JsonResponse:
    """The JSON error for an exception that no view handled (docs/api.md, "Errors")."""
    if isinstance(exc, DomainError):
        return error_response(exc.code, exc.message, exc.status, exc.fields)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return error_response("too_large", "The request body is larger than this endpoint accepts.", 413)
    if isinstance(exc, SuspiciousOperation | BadRequest):
        return error_response("bad_request", "The request is malformed.", 400)
    if isinstance(exc, Http404):
        return error_response("not_found", "Not found.", 404)
    if isinstance(exc, DjangoPermissionDenied):
        return error_response("permission_denied", "You do not have permission to perform this action.", 403)
    request_logger.error("Internal Server Error: %s", request.path, exc_info=exc,
                         extra={"status_code": 500, "request": request})
    return error_response("server_error", "Internal server error; it has been logged.", 500)


# Django's error handlers (config/urls.py): JSON under /api/, Django's pages elsewhere. They answer
# errors raised outside the views (e.g. a middleware reading an oversized body).

def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return api_exception_response(request, exception or BadRequest())
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return error_response("permission_denied", "You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return error_response("not_found", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return error_response("server_error", "Internal server error; it has been logged.", 500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: JSON under /api/, Django's page elsewhere."""
    if is_api_request(request):
        return error_response("csrf_failed", "CSRF check failed: send the X-CSRFToken header.", 403)
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


def json_error_view(code: str, message: str, http_status: int):
    @csrf_exempt  # an unknown API path is a 404 whatever the method
    def view(request, exception=None):
        return JsonResponse(error_body(code, message), status=http_status)

    return view


api_not_found = json_error_view("not_found", "No such API endpoint.", status.HTTP_404_NOT_FOUND)
