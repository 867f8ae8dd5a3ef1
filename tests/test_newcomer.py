"""A newcomer's first hour (issue 16): PORT, email defaults, demo_tender's help and links, the sandbox in production."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
PRINT = ("from django.conf import settings as s; import json; print(json.dumps({'origins': s.CSRF_TRUSTED_ORIGINS, "
         "'email': s.EMAIL_BACKEND, 'mail_dir': s.EMAIL_FILE_PATH, 'broker': s.CELERY_BROKER_URL, "
         "'clock': s.SANDBOX_CLOCK}))")


def _settings(tmp_path, **env) -> dict:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PTRADE_", "DJANGO_", "EMAIL_", "SANDBOX_")) and k not in ("PORT", "REDIS_URL")}
    environment.update(PTRADE_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings", **env)
    done = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + PRINT], cwd=ROOT,  # noqa: S603
                          env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_defaults_follow_port_and_send_no_smtp(tmp_path):
    default = _settings(tmp_path)
    assert default["origins"] == ["http://127.0.0.1:8000", "http://localhost:8000"]
    assert default["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert default["mail_dir"] == str(tmp_path / "mail")
    assert default["broker"] == "filesystem://localhost/"  # a hostname: kombu does not warn
    assert default["clock"] is True
    moved = _settings(tmp_path, PORT="9123")
    assert moved["origins"] == ["http://127.0.0.1:9123", "http://localhost:9123"]
    assert _settings(tmp_path, PORT="9123", DJANGO_CSRF_TRUSTED_ORIGINS="https://x.example")["origins"] == [
        "https://x.example"]
    assert _settings(tmp_path, EMAIL_HOST="smtp.example")["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert _settings(tmp_path, EMAIL_BACKEND="console")["email"] == "django.core.mail.backends.console.EmailBackend"


def test_unknown_email_backend_and_sandbox_in_production_refused(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PTRADE_", "DJANGO_", "SANDBOX_"))}
    environment.update(PTRADE_VAR_DIR=str(tmp_path), EMAIL_BACKEND="pigeon")
    done = subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT, env=environment,  # noqa: S603
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "EMAIL_BACKEND must be one of" in done.stderr
    strong = "k3Y-" + "0123456789abcdefghij" * 3
    secrets = {"BANK_WEBHOOK_SECRET": "b" * 40, "EXPERTS_GATEWAY_SECRET": "g" * 40, "DJANGO_SECRET_KEY": strong}
    for name, value in (("SANDBOX_ROOM_ACCELERATION", "60"), ("SANDBOX_CLOCK", "1")):
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("PTRADE_", "DJANGO_", "SANDBOX_"))}
        environment.update(PTRADE_VAR_DIR=str(tmp_path), PTRADE_PRODUCTION="1", **secrets, **{name: value})
        done = subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT,  # noqa: S603
                              env=environment, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and f"{name} cannot be set in production" in done.stderr


def test_demo_tender_help_and_links_follow_the_real_defaults(monkeypatch, capsys):
    from demo.tender import DEFAULT_PACE, DemoOptions

    monkeypatch.setenv("PORT", "9123")
    assert DemoOptions().base_url == "http://127.0.0.1:9123"
    assert DemoOptions().pace == DEFAULT_PACE
    with pytest.raises(SystemExit):
        call_command("demo_tender", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default {DEFAULT_PACE:g})" in text and "http://127.0.0.1:9123" in text


@pytest.mark.django_db
def test_seed_demo_runs_every_seed_module():
    from experts.models import Expert

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo accounts" in out.getvalue() and Expert.objects.count() == 60
