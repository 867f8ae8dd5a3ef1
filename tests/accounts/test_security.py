import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_production_hashes_passwords_with_argon2():
    from config import settings as base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        assert make_password("a-long-password").startswith("argon2$argon2id$")


def test_login_form_requires_csrf(make_user):
    make_user("bidder", username="frank")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "frank", "password": "correct-horse-9"})
    assert response.status_code == 403


def _settings_import(**env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PTRADE_", "DJANGO_"))}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


STRONG = "k3Y-" + "0123456789abcdefghij" * 3  # 64 characters, many distinct
WEBHOOKS = {"BANK_WEBHOOK_SECRET": "b" * 16 + "ank-webhook-secret-0123456789",
            "EXPERTS_GATEWAY_SECRET": "g" * 16 + "ateway-secret-0123456789abc"}


def test_production_refuses_missing_secret_and_sandbox_acceleration(tmp_path):
    missing = _settings_import(PTRADE_PRODUCTION="1", PTRADE_VAR_DIR=str(tmp_path))
    assert missing.returncode != 0 and "DJANGO_SECRET_KEY must be set" in missing.stderr
    accelerated = _settings_import(PTRADE_PRODUCTION="1", DJANGO_SECRET_KEY=STRONG, PTRADE_VAR_DIR=str(tmp_path),
                                   SANDBOX_TIME_ACCELERATION="1000", **WEBHOOKS)
    assert accelerated.returncode != 0 and "SANDBOX_TIME_ACCELERATION cannot be set" in accelerated.stderr
    ok = _settings_import(PTRADE_PRODUCTION="1", DJANGO_SECRET_KEY=STRONG, PTRADE_VAR_DIR=str(tmp_path), **WEBHOOKS)
    assert ok.returncode == 0, ok.stderr


def test_debug_is_off_unless_asked(tmp_path):
    result = subprocess.run([sys.executable, "-c", "import config.settings as s; print(s.DEBUG)"], cwd=ROOT,
                            env={**{k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"},
                                 "PTRADE_VAR_DIR": str(tmp_path)},
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False"
