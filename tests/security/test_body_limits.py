"""Issue 15 finding 6: bodies are limited before they are read (config/bodylimit.py).

Django's ASGI handler spools a whole body to a temporary file before any view runs; these tests
drive the real ASGI application and count the bytes the server pulls from the client, which bounds
what it can have written to disk."""

from __future__ import annotations

import pytest

from config.bodylimit import DEFAULT_REQUEST_BODY_MAX_BYTES, DEFAULT_WEBHOOK_BODY_MAX_BYTES
from tests.asgi_client import asgi_request, repeated

MIB = 1024 * 1024
pytestmark = pytest.mark.django_db


def _refused_as_too_large(result) -> None:
    assert result.status == 413, (result.status, result.body[:300])
    assert result.headers["content-type"] == "application/json"
    assert result.json()["error"]["code"] == "too_large"


def test_200_mb_anonymous_chunked_post_pulls_at_most_the_limit():
    # No Content-Length (chunked): the server counts while reading and stops at the limit.
    result = asgi_request("POST", "/api/v1/tenders", headers={"content-type": "application/json"},
                          chunks=repeated(b"x" * MIB, 200))
    _refused_as_too_large(result)
    assert result.bytes_pulled <= DEFAULT_REQUEST_BODY_MAX_BYTES + MIB


def test_bank_webhook_has_a_small_limit():
    result = asgi_request("POST", "/api/v1/deposits/bank-notifications",
                          headers={"content-type": "application/json"}, chunks=repeated(b"{" * 65536, 3200))
    _refused_as_too_large(result)
    assert result.bytes_pulled <= DEFAULT_WEBHOOK_BODY_MAX_BYTES + 65536


def test_declared_2_gb_is_refused_before_reading_a_byte():
    for path in ("/api/v1/deposits/bank-notifications", "/api/v1/auth/token", "/accounts/login/"):
        result = asgi_request("POST", path, headers={"content-length": str(2 * 1024**3)},
                              chunks=repeated(b"x" * MIB, 2048))
        _refused_as_too_large(result)
        assert result.bytes_pulled == 0


def test_a_non_numeric_content_length_is_a_400():
    result = asgi_request("POST", "/api/v1/auth/token", headers={"content-length": "12abc"}, chunks=[b"{}"])
    assert result.status == 400 and result.json()["error"]["code"] == "invalid_content_length"


def test_small_bodies_still_work(make_user):
    make_user("bidder", username="limits-user")
    body = b'{"username": "limits-user", "password": "correct-horse-9"}'
    result = asgi_request("POST", "/api/v1/auth/token",
                          headers={"content-type": "application/json", "content-length": str(len(body))},
                          chunks=[body[:10], body[10:]])
    assert result.status == 200, result.body
    assert len(result.json()["token"]) == 40
