"""SMS/voice gateway simulator: receives the platform's signed POSTs and answers like an expert would.

    sim = GatewaySimulator(secret=..., policy="accept", delay=0.2)
    sim.start()                    # serves on sim.url (port 0 = a free port)
    EXPERTS_SMS_GATEWAY_URL = sim.url + "/send"

Endpoints: POST /send (the gateway API: checks the HMAC signature, stores the message, answers
{"id": ...}); GET / (an HTML list of messages with answer buttons); POST /answer (form: id, decision).
Policies: accept, decline, silent (never answers: the call times out), manual (answer from the page),
random:<p> (accept with probability p, seeded by `seed`). Answers are POSTed, signed, to the reply URL
the platform sent (or `reply_url`): SMS as "1 <code>" / "2 <code>", voice as the key with the call's ref.
Standard library only; also run by `manage.py experts sms-simulator`.
"""

from __future__ import annotations

import html
import itertools
import json
import random
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from experts.notify.webhook import HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookRejected, signed_headers, verify


class GatewaySimulator:
    def __init__(self, *, secret: bytes, policy: str = "accept", delay: float = 0.0, host: str = "127.0.0.1",
                 port: int = 0, reply_url: str | None = None, seed: int | None = None) -> None:
        self.secret, self.policy, self.delay, self.reply_url = secret, policy, delay, reply_url
        self.random = random.Random(seed)
        self.messages: list[dict] = []
        self.replies: list[dict] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._timers: list[threading.Timer] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> GatewaySimulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="gateway-simulator")
        self._thread.start()
        return self

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    # --- behaviour -------------------------------------------------------------------------

    def decide(self, message: dict) -> str | None:
        policy = self.policy
        if policy in ("accept", "decline"):
            return policy
        if policy.startswith("random:"):
            return "accept" if self.random.random() < float(policy.split(":", 1)[1]) else "decline"
        return None  # silent / manual

    def receive(self, message: dict) -> str:
        with self._lock:
            message = {**message, "gateway_id": f"sim-{next(self._ids)}", "answered": None}
            self.messages.append(message)
        decision = self.decide(message)
        if decision:
            timer = threading.Timer(self.delay, self.answer, args=[message["gateway_id"], decision])
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
        return message["gateway_id"]

    def answer(self, gateway_id: str, decision: str) -> dict | None:
        with self._lock:
            message = next((m for m in self.messages if m["gateway_id"] == gateway_id), None)
            if message is None or message["answered"]:
                return None
            message["answered"] = decision
        key = "1" if decision == "accept" else "2"
        reply = {"id": f"{gateway_id}-reply-{time.time_ns()}", "channel": message.get("channel", "sms"),
                 "from": message.get("to", "")}
        if reply["channel"] == "voice":
            reply.update(text=key, ref=message.get("ref", ""))
        else:
            reply["text"] = f"{key} {message.get('reply_code', '')}".strip()
        body = json.dumps(reply, ensure_ascii=False).encode()
        url = self.reply_url or message.get("reply_url", "")
        outcome: dict = {"reply": reply, "url": url}
        try:
            request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 (demo/test tool)
                                             headers=signed_headers(self.secret, body))
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                outcome.update(status=response.status, body=json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            outcome.update(status=exc.code, body=exc.read().decode("utf-8", "replace"))
        except Exception as exc:
            outcome.update(status=None, error=str(exc))
            with self._lock:
                self.errors.append(str(exc))
        with self._lock:
            self.replies.append(outcome)
        return outcome

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate(self):
                    return True
            time.sleep(0.02)
        return False

    # --- HTTP ----------------------------------------------------------------------------------

    def _handler(self):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                rows = "".join(
                    f"<tr><td>{html.escape(m['gateway_id'])}</td><td>{html.escape(m.get('channel', ''))}</td>"
                    f"<td>{html.escape(m.get('to', ''))}</td><td>{html.escape(m.get('text', ''))}</td>"
                    f"<td>{html.escape(str(m['answered'] or ''))}"
                    + ("" if m["answered"] else
                       f"<form method=post action=/answer><input type=hidden name=id "
                       f"value='{html.escape(m['gateway_id'])}'><button name=decision value=accept>1 accept"
                       f"</button><button name=decision value=decline>2 decline</button></form>")
                    + "</td></tr>" for m in reversed(sim.messages))
                page = (f"<!doctype html><meta charset=utf-8><title>Gateway simulator</title>"
                        f"<h1>SMS/voice gateway simulator</h1><p>policy: {html.escape(sim.policy)}</p>"
                        f"<table border=1 cellpadding=4><tr><th>id<th>channel<th>to<th>text<th>answer</tr>"
                        f"{rows}</table>").encode()
                self._send(200, page, "text/html; charset=utf-8")

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 1 << 20))
                path = urllib.parse.urlparse(self.path).path
                if path == "/answer":
                    form = urllib.parse.parse_qs(body.decode())
                    sim.answer(form.get("id", [""])[0], form.get("decision", ["accept"])[0])
                    self.send_response(303)
                    self.send_header("Location", "/")
                    self.end_headers()
                    return
                if path != "/send":
                    self._send(404, b'{"error":"not found"}')
                    return
                try:
                    verify(sim.secret, body, self.headers.get(HEADER_TIMESTAMP), self.headers.get(HEADER_SIGNATURE))
                    message = json.loads(body)
                except WebhookRejected as exc:
                    self._send(401, json.dumps({"error": exc.reason}).encode())
                    return
                except ValueError:
                    self._send(400, b'{"error":"bad json"}')
                    return
                gateway_id = sim.receive(message)
                self._send(200, json.dumps({"id": gateway_id}).encode())

        return Handler
