"""Drive the real ASGI application (config.asgi.application, body-limit middleware included)
in-process, with a body streamed in chunks, counting how much of it the server pulled."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync


@dataclass
class AsgiResult:
    status: int = 0
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    bytes_pulled: int = 0  # body bytes the application took from the client

    def json(self):
        return json.loads(self.body)


def asgi_request(method: str, path: str, *, headers: dict[str, str] | None = None,
                 chunks: Iterator[bytes] | None = None, client_ip: str = "127.0.0.1") -> AsgiResult:
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.asgi import application

    result = AsgiResult()
    raw_headers = [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw_headers,
             "client": (client_ip, 50000), "server": ("testserver", 80)}
    source = iter(chunks or [])
    pending = next(source, None)

    async def receive():
        nonlocal pending
        if pending is None:
            await asyncio.sleep(3600)  # the client waits for the response (cancelled by the server)
        chunk, pending = pending, next(source, None)
        result.bytes_pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": pending is not None}

    async def send(message):
        if message["type"] == "http.response.start":
            result.status = message["status"]
            result.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")

    # Like django.test.Client: the test's transaction must survive the request signals.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        async_to_sync(application)(scope, receive, send)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return result


def repeated(chunk: bytes, count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield chunk
