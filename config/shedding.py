"""Graceful shedding: past its capacity the web answers 503 + Retry-After at once.

Two layers (docs/operations.md, "Capacity and shedding"):

* `LoadShedder`, an ASGI middleware around the HTTP app (config/asgi.py). At most
  `WEB_MAX_INFLIGHT` requests of this process run at once; a request beyond that
  waits up to `WEB_QUEUE_TIMEOUT` seconds for a slot, and at most `WEB_MAX_QUEUE`
  requests wait. A request that finds the queue full, or whose wait runs out, gets
  503 with `Retry-After: WEB_RETRY_AFTER` (JSON error body under /api/, a small
  bilingual HTML page otherwise) without touching Django or the database. WebSocket
  connections are not counted (the room has its own limits).
* `DatabaseBusyMiddleware`, the outermost Django middleware: when a request failed
  because the database could not give it a connection (this process's connection
  budget, config/db_capped, or PostgreSQL/PgBouncer refusing or restarting), the
  500 becomes the same 503 + Retry-After response.

Nothing is remembered between requests: when the load ends the semaphore is free
again and the next request is served normally.
"""

from __future__ import annotations

import asyncio
import json
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import OperationalError
from django.http import HttpResponse

API_PREFIX = "/api/"

# Messages of OperationalError that mean "no connection to be had now" rather than a bug.
_UNAVAILABLE_MARKERS = (
    "connection budget exhausted",  # config/db_capped
    "too many clients",  # PostgreSQL max_connections
    "remaining connection slots are reserved",  # PostgreSQL reserved slots / role limits
    "too many connections for role",  # ALTER ROLE … CONNECTION LIMIT
    "no more connections allowed",  # PgBouncer max_client_conn
    "query_wait_timeout",  # PgBouncer: no server connection in time
    "could not connect to server",
    "connection refused",
    "the database system is starting up",
    "the database system is shutting down",
    "server closed the connection unexpectedly",
)

MESSAGE_EN = "The platform is busy. Please retry in a few seconds."
MESSAGE_ZH = "平台繁忙，请稍后几秒再试。"


def _int_setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def retry_after() -> int:
    return max(1, int(_int_setting("WEB_RETRY_AFTER", 2)))


def overloaded_body(path: str, *, code: str = "overloaded") -> tuple[bytes, str]:
    """The 503 body and its content type for `path`: the API's JSON error, else a small HTML page."""
    if path.startswith(API_PREFIX):
        body = {"error": {"code": code, "message": MESSAGE_EN, "fields": {}}}
        return json.dumps(body).encode(), "application/json"
    html = (
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        f"<title>503</title></head><body><h1>{MESSAGE_ZH}</h1><p>{MESSAGE_EN}</p></body></html>"
    )
    return html.encode(), "text/html; charset=utf-8"


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Did this exception come from not getting a database connection (as opposed to a bug)?"""
    while exc is not None:
        if isinstance(exc, OperationalError):
            text = str(exc).lower()
            if any(marker in text for marker in _UNAVAILABLE_MARKERS):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


class LoadShedder:
    """ASGI middleware: a bounded number of in-flight HTTP requests, a short bounded queue, then 503."""

    def __init__(self, app, *, max_inflight: int | None = None, max_queue: int | None = None,
                 queue_timeout: float | None = None) -> None:
        self.app = app
        self._limits = (max_inflight, max_queue, queue_timeout)
        self._semaphore: asyncio.Semaphore | None = None
        self._loop = None
        self.waiting = 0
        self.inflight = 0
        self.shed = 0

    def limits(self) -> tuple[int, int, float]:
        max_inflight, max_queue, queue_timeout = self._limits
        return (
            int(max_inflight if max_inflight is not None else _int_setting("WEB_MAX_INFLIGHT", 16)),
            int(max_queue if max_queue is not None else _int_setting("WEB_MAX_QUEUE", 64)),
            float(queue_timeout if queue_timeout is not None else _int_setting("WEB_QUEUE_TIMEOUT", 2.0)),
        )

    def _sem(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._semaphore, self._loop = asyncio.Semaphore(self.limits()[0]), loop
        return self._semaphore

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.limits()[0] <= 0:
            await self.app(scope, receive, send)
            return
        semaphore = self._sem()
        _, max_queue, queue_timeout = self.limits()
        if semaphore.locked():
            if self.waiting >= max_queue:
                await self._refuse(scope, send)
                return
            self.waiting += 1
            try:
                await asyncio.wait_for(semaphore.acquire(), timeout=queue_timeout)
            except TimeoutError:
                await self._refuse(scope, send)
                return
            finally:
                self.waiting -= 1
        else:
            await semaphore.acquire()
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1
            semaphore.release()

    async def _refuse(self, scope, send) -> None:
        self.shed += 1
        body, content_type = overloaded_body(scope.get("path", ""))
        await send({
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after()).encode()),
                (b"cache-control", b"no-store"),
            ],
        })
        await send({"type": "http.response.body", "body": body})


def overloaded_response(path: str, *, code: str = "overloaded") -> HttpResponse:
    body, content_type = overloaded_body(path, code=code)
    response = HttpResponse(body, status=503, content_type=content_type)
    response["Retry-After"] = str(retry_after())
    response["Cache-Control"] = "no-store"
    return response


_FLAG = "_ptrade_database_unavailable"


def _note_exception(sender, request=None, **kwargs) -> None:
    """got_request_exception receiver: remember that this request failed for want of a connection."""
    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        setattr(request, _FLAG, True)


got_request_exception.connect(_note_exception, dispatch_uid="ptrade_database_unavailable")


class DatabaseBusyMiddleware:
    """Outermost Django middleware: a 500 caused by an unavailable database becomes 503 + Retry-After."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code >= 500 and getattr(request, _FLAG, False):
            return overloaded_response(request.path, code="database_unavailable")
        return response

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            return overloaded_response(request.path, code="database_unavailable")
        return None
