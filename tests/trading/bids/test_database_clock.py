"""The bid deadline is decided by the database's clock, so web hosts with skewed clocks agree (issue 20 item 6).

A host clock is skewed by patching `django.utils.timezone.now` (what `trading.clock.now`
reads); the database keeps the true time. No controllable clock is installed here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.trading.sealed import seal, upload
from trading import clock as trading_clock
from trading.models import Tender

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _skew_host_clock(monkeypatch, offset: timedelta) -> None:
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + offset)


def _set_deadline(tender, moment) -> None:
    Tender.objects.filter(pk=tender.pk).update(bid_deadline=moment)  # the test's own privilege
    tender.refresh_from_db()


def test_deadline_now_reads_the_database_clock(monkeypatch):
    true_now = timezone.now()
    _skew_host_clock(monkeypatch, timedelta(hours=-3))
    assert abs(trading_clock.now() - (true_now - timedelta(hours=3))) < timedelta(seconds=5)
    assert abs(trading_clock.deadline_now() - true_now) < timedelta(seconds=5)


def test_a_host_whose_clock_is_behind_refuses_a_bid_after_the_deadline(bidding, monkeypatch):
    bidder = bidding.bidders[0]
    envelope = seal(bidding.lot, bidder)
    _set_deadline(bidding.tender, timezone.now() - timedelta(seconds=30))
    _skew_host_clock(monkeypatch, timedelta(hours=-1))  # this host still believes the deadline is an hour away
    response = upload(bidding.lot, bidder, envelope)
    assert response.status_code in (400, 409, 422), response.content
    assert response.json()["error"]["code"] == "deadline_passed"
    assert not bidding.lot.bids.exists()


def test_a_host_whose_clock_is_ahead_accepts_a_bid_before_the_deadline(bidding, monkeypatch):
    bidder = bidding.bidders[0]
    envelope = seal(bidding.lot, bidder)
    _set_deadline(bidding.tender, timezone.now() + timedelta(minutes=10))
    _skew_host_clock(monkeypatch, timedelta(hours=1))  # this host believes the deadline passed 50 minutes ago
    response = upload(bidding.lot, bidder, envelope)
    assert response.status_code == 201, response.content
    bid = bidding.lot.bids.get()
    # The recorded receipt time is the database's, not the skewed host's.
    assert bid.received_at < bidding.tender.bid_deadline


def test_the_controllable_clock_still_decides_when_installed(bidding, clock):
    """Tests and the accelerated sandbox replace `clock.now`; deadlines follow it on every database."""
    bidder = bidding.bidders[0]
    envelope = seal(bidding.lot, bidder)
    clock.move_to(bidding.tender.bid_deadline + timedelta(seconds=1))
    response = upload(bidding.lot, bidder, envelope)
    assert response.json()["error"]["code"] == "deadline_passed"
