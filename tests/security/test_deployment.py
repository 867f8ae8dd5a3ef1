"""Issue 15 finding 8: no default or known secret, production mode on in compose, separate webhook
and gateway secrets, HSTS + HTTPS redirect + a proxy-SSL header only a trusted proxy can set,
and a Content-Security-Policy that the pages pass (no inline script, no inline event handler)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
STRONG = "k3Y-" + "0123456789abcdefghij" * 3
WEBHOOKS = {"BANK_WEBHOOK_SECRET": "bank-webhook-secret-0123456789abcdef",
            "EXPERTS_GATEWAY_SECRET": "gateway-secret-0123456789abcdefghij"}


def _run(args: list[str], **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PTRADE_", "DJANGO_", "BANK_", "EXPERTS_"))}
    environment.update(env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True,  # noqa: S603
                          timeout=600)


def _production(tmp_path, **env) -> dict:
    return {"PTRADE_PRODUCTION": "1", "PTRADE_VAR_DIR": str(tmp_path), "DJANGO_SECRET_KEY": STRONG,
            "DJANGO_ALLOWED_HOSTS": "ptrade.example.gov.cn", **WEBHOOKS, **env}


@pytest.mark.parametrize("secret", ["change-me-compose-local-only", "django-insecure-" + "a1b2c3d4e5" * 5,
                                    "short-secret", "x" * 60])
def test_production_refuses_known_and_weak_secret_keys(tmp_path, secret):
    result = _run(["-c", "import config.settings"], **_production(tmp_path, DJANGO_SECRET_KEY=secret))
    assert result.returncode != 0 and "DJANGO_SECRET_KEY is refused in production" in result.stderr, result.stderr


@pytest.mark.parametrize("name", ["BANK_WEBHOOK_SECRET", "EXPERTS_GATEWAY_SECRET"])
def test_production_requires_separate_webhook_and_gateway_secrets(tmp_path, name):
    missing = _run(["-c", "import config.settings"], **{**_production(tmp_path), name: ""})
    assert missing.returncode != 0 and f"{name} must be set in production" in missing.stderr, missing.stderr
    same = _run(["-c", "import config.settings"], **{**_production(tmp_path), name: STRONG})
    assert same.returncode != 0 and f"{name} must be set in production" in same.stderr, same.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  **_production(tmp_path, DJANGO_SETTINGS_MODULE="config.settings"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_harden_transport(tmp_path):
    code = ("import config.settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
            "s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)")
    result = _run(["-c", code], **_production(tmp_path))
    assert result.stdout.split("\n")[0] == "True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https') True True", result.stderr


def test_compose_has_no_default_secret_and_runs_in_production_mode():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"]["web"]["environment"]
    assert str(env["PTRADE_PRODUCTION"]) == "1"
    for name in ("DJANGO_SECRET_KEY", "BANK_WEBHOOK_SECRET", "EXPERTS_GATEWAY_SECRET"):
        assert re.fullmatch(r"\$\{" + name + r":\?[^}]*\}", env[name]), (name, env[name])


@pytest.mark.django_db
def test_proxy_ssl_header_is_believed_only_from_a_trusted_proxy(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = ["192.0.2.1"]
    forged = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="198.51.100.9")
    assert forged.status_code == 301 and forged["Location"].startswith("https://")
    proxied = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="192.0.2.1")
    assert proxied.status_code == 200


class _ScriptAudit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.problems.append(f"inline script {attrs}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"inline handler {name} on <{tag}>")
            if isinstance(value, str) and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_script(client, make_user):
    user = make_user("bidder", username="csp-user")
    pages = ["/", "/accounts/login/", "/notices/", "/results/", "/api/docs/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        audit = _ScriptAudit()
        audit.feed(response.content.decode())
        assert not audit.problems, (url, audit.problems)
    client.force_login(user)
    response = client.get("/")
    assert "Content-Security-Policy" in response
    # The back office passes the same policy.
    client.force_login(make_user("platform_admin", is_staff=True, is_superuser=True))
    for url in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/",
                f"/admin/accounts/user/{user.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        audit = _ScriptAudit()
        audit.feed(response.content.decode())
        assert not audit.problems, (url, audit.problems)


def test_no_template_has_inline_script_or_handlers():
    problems = []
    for path in (ROOT / "bidding_ui" / "templates").rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in match.group(1) and "application/json" not in match.group(1):
                problems.append(f"{path.name}: inline <script{match.group(1)}>")
        problems += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+\s*=\s*[\"']", text)]
    assert not problems, problems
