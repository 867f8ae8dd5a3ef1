"""Request body limits enforced before a body is read (docs/configuration.md, "Request bodies").

Django's ASGI handler reads a whole request body (to memory, then to a temporary file) before any
view runs, so a view cannot refuse a body it has not asked for. This ASGI middleware sits in front
of it and, for every HTTP request:

1. picks the route's limit: `BANK_WEBHOOK_BODY_MAX_BYTES` for the signed webhooks (bank
   notifications, SMS gateway), `REQUEST_BODY_MAX_BYTES` for everything else;
2. for the two large-upload routes (bid envelopes, tender documents) first runs the route's *gate*
   on the headers alone: authentication, permission and the route's own cheap checks; a refusal is
   answered (401/403/404/409/411/413/415 JSON) without reading a byte of the body, and a pass raises
   the limit to the route's (the lot's `max_envelope_bytes`, `TENDER_DOCUMENT_MAX_BYTES` + 1 MiB);
3. answers 413 at once when `Content-Length` exceeds the limit (400 when it is not a number);
4. counts the bytes as they stream in (chunked bodies included) and, once the count passes the
   limit, stops reading, tells Django the client left, and answers 413 itself.

Every refusal is `{"error": {"code", "message", "fields"}}` JSON with `Connection: close`.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse

MIB = 1024 * 1024
DEFAULT_REQUEST_BODY_MAX_BYTES = 10 * MIB
DEFAULT_WEBHOOK_BODY_MAX_BYTES = 64 * 1024
WEBHOOK_PATHS = ("/api/v1/deposits/bank-notifications", "/api/v1/experts/gateway/inbound")

# (method, path pattern, "module.function"): gate(request, **groups) -> HttpResponse (refusal) | int (limit)
GATES: list[tuple[str, re.Pattern, str]] = [
    ("POST", re.compile(r"^/api/v1/tenders/(?P<tender_id>\d+)/lots/(?P<lot_id>\d+)/bids$"),
     "trading.bids.api.upload_body_gate"),
    ("POST", re.compile(r"^/api/v1/tenders/(?P<tender_id>\d+)/documents$"), "trading.api.views.document_body_gate"),
    ("POST", re.compile(r"^/agent/tenders/(?P<tender_id>\d+)/documents/$"), "trading.api.views.document_body_gate"),
]


def request_body_max_bytes() -> int:
    return int(getattr(settings, "REQUEST_BODY_MAX_BYTES", DEFAULT_REQUEST_BODY_MAX_BYTES))


def webhook_body_max_bytes() -> int:
    return int(getattr(settings, "BANK_WEBHOOK_BODY_MAX_BYTES", DEFAULT_WEBHOOK_BODY_MAX_BYTES))


def route_limit(path: str) -> int:
    return webhook_body_max_bytes() if path.rstrip("/") in WEBHOOK_PATHS else request_body_max_bytes()


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": {"code": code, "message": message, "fields": {}}}).encode()


async def _respond(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": (headers or []) + base})
    await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> tuple[int, bytes]:
    return _error(413, "too_large", f"The request body is larger than this endpoint accepts ({limit} bytes).")


def _run_gate(dotted: str, scope: dict, groups: dict) -> HttpResponse | int:
    """Run a gate on a request built from the headers only (its body is empty)."""
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.core.handlers.asgi import ASGIRequest
    from django.utils.module_loading import import_string

    request = ASGIRequest(scope, io.BytesIO())
    SessionMiddleware(lambda r: None).process_request(request)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    gate: Callable[..., HttpResponse | int] = import_string(dotted)
    return gate(request, **{k: int(v) for k, v in groups.items()})


class BodyLimitMiddleware:
    """ASGI middleware for the HTTP application (config/asgi.py)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        limit = route_limit(path)
        declared = None
        for name, value in scope.get("headers") or []:
            if name.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
        if declared is not None and declared < 0:
            return await _respond(send, *_error(400, "invalid_content_length", "Content-Length is not a number."))
        for gate_method, pattern, dotted in GATES:
            match = pattern.match(path) if method == gate_method else None
            if match:
                result = await sync_to_async(_run_gate, thread_sensitive=True)(dotted, scope, match.groupdict())
                if isinstance(result, HttpResponse):
                    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in result.items()
                               if k.lower() not in ("content-type", "content-length", "connection")]
                    return await _respond(send, result.status_code, result.content, headers)
                limit = int(result)
                break
        if declared is not None and declared > limit:
            return await _respond(send, *_too_large(limit))

        state = {"received": 0, "over": False, "started": False}

        async def counted_receive():
            if state["over"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message.get("type") == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["over"] = True  # stop reading: Django sees a client that left
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            if message.get("type") == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, counted_receive, tracked_send)
        if state["over"] and not state["started"]:
            await _respond(send, *_too_large(limit))
