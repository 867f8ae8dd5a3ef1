"""HMAC signatures of the gateway webhooks, both directions.

    X-Ptrade-Timestamp: <unix seconds>
    X-Ptrade-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." || body bytes)>

A receiver refuses a bad signature and a timestamp more than EXPERTS_GATEWAY_MAX_SKEW seconds
(default 300) away from its clock; the inbound endpoint also refuses a message id it has seen
(replay protection).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings

HEADER_TIMESTAMP = "X-Ptrade-Timestamp"
HEADER_SIGNATURE = "X-Ptrade-Signature"


class WebhookRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def max_skew() -> int:
    return int(getattr(settings, "EXPERTS_GATEWAY_MAX_SKEW", 300))


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {"Content-Type": "application/json", HEADER_TIMESTAMP: timestamp,
            HEADER_SIGNATURE: signature(secret, timestamp, body)}


def verify(secret: bytes, body: bytes, timestamp: str | None, sig: str | None, *, now: float | None = None) -> None:
    if not timestamp or not sig:
        raise WebhookRejected("missing signature headers")
    try:
        sent = int(timestamp)
    except ValueError:
        raise WebhookRejected("bad timestamp") from None
    if abs((time.time() if now is None else now) - sent) > max_skew():
        raise WebhookRejected("timestamp outside the allowed window")
    if not hmac.compare_digest(signature(secret, timestamp, body), sig):
        raise WebhookRejected("bad signature")
