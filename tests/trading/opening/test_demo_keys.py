"""`manage.py opening demo-keys` (demo only): key files that open, registered public keys."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import sbe1
from trading.models import RegisteredKey

pytestmark = pytest.mark.django_db


def test_demo_keys_written_and_registered_idempotently(make_user, tmp_path, settings):
    custodian = make_user("supervisor", "custodian")
    bidder = make_user("bidder")
    call_command("opening", "demo-keys", "--out", str(tmp_path), "--password", "demo-pass-123")
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"bidder-{bidder.username}.key", f"custodian-{custodian.username}.key"]
    key = sbe1.read_key_file((tmp_path / files[1]).read_bytes(), "demo-pass-123")
    assert RegisteredKey.objects.get(user=custodian).key_id == key.key_id
    assert RegisteredKey.objects.get(organisation=bidder.organisation).holder == "organisation"
    assert not (tmp_path / files[0]).stat().st_mode & 0o077
    call_command("opening", "demo-keys", "--out", str(tmp_path), "--password", "demo-pass-123")
    assert RegisteredKey.objects.count() == 2
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("opening", "demo-keys", "--out", str(tmp_path))
