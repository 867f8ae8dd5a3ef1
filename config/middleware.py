"""Input sanitation and JSON errors for the API (docs/api.md).

`InputSanitationMiddleware` refuses, before any view runs, a path or query string
that carries text the database cannot store (config/inputs.py): 400 `invalid_text`
(JSON under /api/, plain text elsewhere); on pages it checks url-encoded form bodies
too. Under /api/ it also turns every exception a view lets through into the JSON
error shape: an oversized body 413 `too_large`, other suspicious requests 400
`bad_request`, anything else 500 `server_error`, logged with its traceback on the
`django.request` logger (like Django's own handler) and never shown to the client.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from config.api import api_exception_response, error_response, is_api_request
from config.inputs import text_problem
from config.shedding import is_database_unavailable


def _input_problem(request: HttpRequest) -> tuple[str, str] | None:
    """(where, problem) for the first text the database cannot store, or None."""
    problem = text_problem(request.path)
    if problem:
        return "path", problem
    for key, values in request.GET.lists():
        for value in (key, *values):
            problem = text_problem(value)
            if problem:
                return key if text_problem(key) is None else "query", problem
    return None


class InputSanitationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = _input_problem(request)
        api = is_api_request(request)
        if found is None and not api and request.method in ("POST", "PUT", "PATCH") \
                and request.content_type == "application/x-www-form-urlencoded":
            try:
                for key, values in request.POST.lists():
                    for value in (key, *values):
                        problem = text_problem(value)
                        if problem:
                            found = (key if text_problem(key) is None else "form", problem)
                            break
            except Exception:  # noqa: BLE001 - too big or malformed: Django's own handlers answer below
                found = None
        if found is not None:
            where, problem = found
            if api:
                return error_response("invalid_text", f"{where}: {problem}", 400, {where: [problem]})
            return HttpResponseBadRequest(f"Bad request: {where}: {problem}", content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # No database connection to be had is overload, not a bug: DatabaseBusyMiddleware (outer)
        # answers it with 503 + Retry-After (config/shedding.py, docs/operations.md).
        if not is_api_request(request) or is_database_unavailable(exception):
            return None
        return api_exception_response(request, exception)
