"""A minimal ASGI HTTP client: many concurrent requests straight into the application."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes


async def get(app, path: str, *, query: str = "", headers: list | None = None) -> Reply:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"testserver")] + list(headers or []),
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    sent = False
    done = asyncio.Event()

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    status, out_headers, body = 0, {}, []

    async def send(message):
        nonlocal status, out_headers
        if message["type"] == "http.response.start":
            status = message["status"]
            out_headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    return Reply(status, out_headers, b"".join(body))


async def slots_taken(shedder, n: int, timeout: float = 30) -> None:
    """Wait until `n` requests hold a slot (by the shedder's count, not by a guess at the machine's speed)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while shedder.inflight < n:
        assert loop.time() < end, f"{shedder.inflight} of {n} slots taken"
        await asyncio.sleep(0.005)
