"""The live supervision page shows times in the platform's zone (China Standard Time), formatted by the
shared rule (docs/ui.md, "Money and times"), never as raw ISO UTC strings; supervision.js does the same
for live updates (tests/bidding_ui/test_format_cases.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.fixtures.directory import _english, _media_root  # noqa: F401
from trading.services.objections import objection_raise

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_china_standard_time(published, cast, clock, client):  # noqa: F811
    objection = objection_raise(actor=cast.bidders[0], tender=published, text="Objection.")
    clock.move_to(objection.reply_due_at + timedelta(seconds=1))
    client.force_login(cast.supervisor)
    html = client.get("/supervisor/").content.decode()
    local = timezone.localtime(objection.reply_due_at)
    assert local.utcoffset() == timedelta(hours=8)
    assert f"{local.day} {local:%b %Y, %H:%M}" in html  # e.g. "7 Dec 2026, 00:53"
    assert not re.search(r">\s*\d{4}-\d\d-\d\dT\d\d:\d\d", html), "a raw ISO timestamp is shown"
    assert "(UTC)" not in html
