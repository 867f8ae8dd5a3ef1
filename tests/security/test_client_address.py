"""Issue 15 finding 1: a forged X-Forwarded-For neither escapes the login lock-out nor sets the
upload or audit address; only a configured proxy (TRUSTED_PROXIES) is believed, and the `login`
throttle applies to the token endpoint, the login page and the back-office login."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client, RequestFactory

from audit.models import AuditEvent
from config.clientip import client_ip

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _token_attempt(api, i: int, username: str = "expert57", **extra):
    return api.post("/api/v1/auth/token", {"username": username, "password": "wrong"}, format="json",
                    HTTP_X_FORWARDED_FOR=f"10.0.0.{i}", **extra)


def test_issue_repro_30_tries_with_changing_forwarded_for_are_locked(api, make_user):
    make_user("expert", username="expert57")
    codes = [_token_attempt(api, i).status_code for i in range(1, 31)]
    assert codes[:4] == [401] * 4  # django-axes locks (username, address) at the 5th failure
    assert set(codes[4:]) == {429}


def test_login_throttle_applies_to_the_token_endpoint_whatever_the_username(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"login": "20/min"}}
    codes = [_token_attempt(api, i, username=f"nobody{i}").status_code for i in range(1, 31)]
    assert codes[:20] == [401] * 20
    assert set(codes[20:]) == {429}
    body = _token_attempt(api, 99, username="someone").json()
    assert body["error"]["code"] == "throttled"


def test_login_throttle_applies_to_the_login_page_and_the_back_office(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"login": "20/min"}}
    client = Client()
    codes = [client.post("/accounts/login/", {"username": f"page{i}", "password": "wrong"},
                         HTTP_X_FORWARDED_FOR=f"10.1.0.{i}").status_code for i in range(25)]
    assert codes[:20] == [200] * 20 and set(codes[20:]) == {429}
    # The back-office login shares the same per-address budget.
    assert client.post("/admin/login/", {"username": "x", "password": "wrong"}).status_code == 429


def test_forged_forwarded_for_never_sets_the_audit_address(api, make_user):
    make_user("bidder", username="carol")
    api.post("/api/v1/auth/token", {"username": "carol", "password": "correct-horse-9"}, format="json",
             HTTP_X_FORWARDED_FOR="198.51.100.66", REMOTE_ADDR="192.0.2.10")
    assert AuditEvent.objects.get(action="auth.login").data["ip"] == "192.0.2.10"


def test_with_a_trusted_proxy_the_forwarded_client_is_the_audit_address(api, make_user, settings):
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]
    make_user("bidder", username="dave")
    api.post("/api/v1/auth/token", {"username": "dave", "password": "wrong"}, format="json",
             HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.67", REMOTE_ADDR="192.0.2.10")
    assert AuditEvent.objects.get(action="auth.login_failed").data["ip"] == "198.51.100.67"


def test_with_a_trusted_proxy_lockout_follows_the_real_client(api, make_user, settings):
    """Behind the proxy, each real client has its own lock-out; a forged left-most hop changes nothing."""
    settings.TRUSTED_PROXIES = ["192.0.2.1"]
    make_user("expert", username="expert58")
    codes = [api.post("/api/v1/auth/token", {"username": "expert58", "password": "wrong"}, format="json",
                      REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"10.9.9.{i}, 198.51.100.5").status_code
             for i in range(8)]
    assert codes[:4] == [401] * 4 and set(codes[4:]) == {429}
    other = api.post("/api/v1/auth/token", {"username": "expert58", "password": "wrong"}, format="json",
                     REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.6")
    assert other.status_code == 401


@pytest.mark.parametrize(("remote", "forwarded", "trusted", "expected"), [
    ("192.0.2.9", "10.0.0.1", [], "192.0.2.9"),                                   # no proxy configured
    ("192.0.2.9", "10.0.0.1", ["192.0.2.1"], "192.0.2.9"),                        # peer is not the proxy
    ("192.0.2.1", "6.6.6.6, 198.51.100.5", ["192.0.2.1"], "198.51.100.5"),        # right-most untrusted hop
    ("192.0.2.1", "198.51.100.5, 192.0.2.2", ["192.0.2.0/24"], "198.51.100.5"),   # a chain of proxies
    ("192.0.2.1", "192.0.2.3, 192.0.2.2", ["192.0.2.0/24"], "192.0.2.3"),         # all trusted: left-most
    ("192.0.2.1", "junk, 198.51.100.5", ["192.0.2.1"], "198.51.100.5"),
    ("192.0.2.1", "198.51.100.5, junk", ["192.0.2.1"], "192.0.2.1"),              # malformed hop: stop
    ("192.0.2.1", "", ["192.0.2.1"], "192.0.2.1"),
    ("2001:db8::1", "[2001:db8::5]:443", ["2001:db8::/64"], "2001:db8::5"),
    ("not-an-ip", "198.51.100.5", [], None),
])
def test_client_ip_resolution(settings, remote, forwarded, trusted, expected):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_uvicorn_does_not_rewrite_the_client_address():
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default (proxy_headers on): the entrypoint
    turns that off in every mode, so the one resolution is config.clientip's."""
    script = (ROOT / "bin" / "entrypoint").read_text().replace("\\\n", " ")
    runs = [line for line in script.splitlines() if "-m uvicorn" in line]
    assert runs
    for line in runs:
        assert "--no-proxy-headers" in line, line
        assert not re.search(r"--proxy-headers\b", line), line
