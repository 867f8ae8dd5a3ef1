"""`manage.py demo_fixed_price` plays one procedure end to end."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from credit.models import CreditRecord, RecordStatus
from smallworks.models import Project, ProjectStatus


def test_demo_fixed_price(db, settings):
    settings.BANK_WEBHOOK_SECRET = "demo-secret"
    out = io.StringIO()
    call_command("demo_fixed_price", stdout=out)
    text = out.getvalue()
    project = Project.objects.get()
    assert project.status == ProjectStatus.CONTRACTED and project.code in text
    assert "recomputed from the public record" in text and "(matches)" in text
    record = CreditRecord.objects.get()
    assert record.status == RecordStatus.PUBLISHED and record.number in text
    assert project.drawing.picks.filter(status="lapsed").count() == 1


def test_demo_refused_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("demo_fixed_price", stdout=io.StringIO())
