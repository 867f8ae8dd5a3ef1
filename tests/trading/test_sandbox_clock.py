"""The sandbox's time (issue 16): separate legal and room factors, an operator-advanced clock shared by
every process, and periods of an accelerated tender that stay right when another process shows them."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.models import AuditEvent
from trading import clock, sandbox
from trading.models import SandboxClock
from trading.opening import rules as opening_rules
from trading.rules import WORKS, legal_period, room_acceleration


@pytest.fixture
def sandbox_on(settings):
    settings.SANDBOX_CLOCK = True
    cache.delete(sandbox.CACHE_KEY)
    sandbox.forget()
    yield settings
    cache.delete(sandbox.CACHE_KEY)
    sandbox.forget()


def test_legal_and_room_factors_are_separate(settings):
    """At 28,800 (20 legal days in a minute) the opening's 10-minute sign-in keeps its own factor."""
    settings.SANDBOX_TIME_ACCELERATION = 28_800
    settings.SANDBOX_ROOM_ACCELERATION = 1
    assert legal_period(20) == timedelta(minutes=1)
    assert opening_rules.minutes(opening_rules.SIGN_IN_MINUTES) == timedelta(minutes=10)
    settings.SANDBOX_ROOM_ACCELERATION = 10
    assert opening_rules.minutes(opening_rules.SIGN_IN_MINUTES) == timedelta(minutes=1)
    assert legal_period(20) == timedelta(minutes=1)


def test_room_factor_refused_in_production_and_below_one(settings):
    settings.SANDBOX_ROOM_ACCELERATION = 0.5
    with pytest.raises(ImproperlyConfigured):
        room_acceleration()
    settings.SANDBOX_ROOM_ACCELERATION = 60
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured):
        opening_rules.minutes(10)


def test_parse_duration():
    assert sandbox.parse_duration("20d") == timedelta(days=20)
    assert sandbox.parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert sandbox.parse_duration("15m") == timedelta(minutes=15)
    assert sandbox.parse_duration("90s") == timedelta(seconds=90)
    for bad in ("", "20", "d", "20x", "-1d", "1d garbage"):
        with pytest.raises(ValueError):
            sandbox.parse_duration(bad)


@pytest.mark.django_db
def test_the_clock_is_off_unless_enabled(settings):
    settings.SANDBOX_CLOCK = False
    assert sandbox.offset() == timedelta()
    with pytest.raises(CommandError):
        call_command("sandbox", "advance", "1d", stdout=io.StringIO())
    assert not SandboxClock.objects.exists()


@pytest.mark.django_db
def test_the_clock_is_refused_in_production(settings):
    settings.SANDBOX_CLOCK = True
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured):
        sandbox.offset()
    with pytest.raises(CommandError):
        call_command("sandbox", "advance", "1d", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_advance_moves_now_and_deadlines_for_every_process_and_is_audited(sandbox_on):
    before = clock.now()
    out = io.StringIO()
    call_command("sandbox", "advance", "20d", stdout=out)
    assert "due steps run: 0" in out.getvalue()
    assert clock.now() - before >= timedelta(days=20)
    assert clock.deadline_now() - timezone.now() >= timedelta(days=20) - timedelta(seconds=5)
    event = AuditEvent.objects.get(action="sandbox.clock_advanced")
    assert event.data == {"by_seconds": 20 * 86400, "offset_before_seconds": 0, "offset_after_seconds": 20 * 86400}
    # another process: no memo, no cache entry: it reads the stored row
    sandbox.forget()
    cache.delete(sandbox.CACHE_KEY)
    assert sandbox.offset() == timedelta(days=20)
    # another process that last read 0 sees the advance once its memo is older than a second
    call_command("sandbox", "advance", "1h", stdout=io.StringIO())
    assert SandboxClock.objects.get().offset_seconds == 20 * 86400 + 3600
    sandbox._memo.value = (0.0, 0.0)  # a stale memo from long ago
    assert sandbox.offset() == timedelta(days=20, hours=1)


@pytest.mark.django_db(transaction=True)
def test_advance_fires_due_steps(sandbox_on, published):
    """A bid deadline 30 days away is reached by advancing 31 days: the deadline step runs at once."""
    call_command("sandbox", "advance", "31d", stdout=io.StringIO())
    published.refresh_from_db()
    assert published.bidding_closed_at is not None


def test_objection_cutoff_uses_the_tenders_own_factor(settings, published, cast):
    """Issue 16: a tender published at a sandbox factor showed, on a server at factor 1, an objection
    deadline before its publication date."""
    from trading.models import Tender
    from trading.services.tenders import tender_publish

    settings.SANDBOX_TIME_ACCELERATION = 19_200
    tender = published.__class__.objects.get(pk=published.pk)
    assert tender.time_acceleration == 1
    assert tender.objection_cutoff() == tender.bid_deadline - timedelta(days=10)
    draft = Tender.objects.get(pk=_accelerated_draft(cast).pk)
    tender_publish(actor=cast.agent, tender=draft)
    draft.refresh_from_db()
    assert draft.time_acceleration == 19_200
    settings.SANDBOX_TIME_ACCELERATION = 1  # the web server's own factor
    assert draft.documents_issued_at < draft.objection_cutoff() < draft.bid_deadline
    assert draft.bid_deadline - draft.objection_cutoff() == WORKS.objection_before_deadline.span_before(
        draft.bid_deadline, 19_200)


def _accelerated_draft(cast):
    from decimal import Decimal

    from tests.trading.helpers import pdf
    from trading.services.documents import document_upload
    from trading.services.tenders import lot_create, tender_create

    tender = tender_create(actor=cast.agent, title="Accelerated", tenderer=cast.tenderer_org, procedure_type="works",
                           bid_deadline=clock.now() + timedelta(days=21) / 19_200, readout_items=["duration_days"])
    lot_create(actor=cast.agent, tender=tender, title="Lot 1", estimated_price=Decimal("1000000.00"),
               deposit_amount=Decimal("10000.00"))
    document_upload(actor=cast.agent, tender=tender, file=pdf())
    return tender
