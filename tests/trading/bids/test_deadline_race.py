"""Concurrent uploads around the deadline on PostgreSQL: nothing committed at or after it.

Every upload passes its pre-check before the deadline, then streams for a random time,
so the accepting transactions land on both sides of the deadline while the bid_deadline
step closes the tender concurrently. Each committed bid has received_at < deadline, each
refusal names the deadline, and the opening counts exactly the committed bids.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.trading.sealed import bidder_with_key, seal, sign, upload
from trading import clock as trading_clock
from trading.bids import submission
from trading.models import Bid, BidStatus, LotOpening, TenderStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_uploads_around_the_deadline(published, make_user, monkeypatch):
    from trading.services.registrations import registration_create
    from trading.services.scheduling import steps_run_due

    lot = published.lots.get()
    bidders = []
    for _ in range(16):
        sealed = bidder_with_key(make_user("bidder"))
        registration_create(actor=sealed.user, lot=lot)
        bidders.append(sealed)
    envelopes = [(b, seal(lot, b)) for b in bidders]
    signed = [(b, env, sign(b, env)) for b, env in envelopes]

    deadline = published.bid_deadline
    offset = deadline - (timezone.now() + timedelta(milliseconds=1500))
    monkeypatch.setattr(trading_clock, "now", lambda: timezone.now() + offset)
    real_receive = submission.envelope_receive

    def slow_receive(**kw):
        result = real_receive(**kw)
        time.sleep(random.uniform(0.0, 3.0))  # noqa: S311 - test jitter
        return result

    monkeypatch.setattr(submission, "envelope_receive", slow_receive)
    start = threading.Barrier(len(signed) + 1)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def run(bidder, envelope, signature):
        try:
            start.wait()
            response = upload(lot, bidder, envelope, signature=signature)
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    def close_at_deadline():
        try:
            start.wait()
            while trading_clock.now() < deadline:
                time.sleep(0.005)
            while not steps_run_due():
                time.sleep(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in signed]
    closer = threading.Thread(target=close_at_deadline)
    for t in [*threads, closer]:
        t.start()
    for t in [*threads, closer]:
        t.join(30)

    assert len(results) == len(signed)
    accepted = [body for status, body in results if status == 201]
    refused = [body for status, body in results if status != 201]
    assert accepted and refused, ("the test must straddle the deadline", results)
    for body in refused:
        assert body["error"]["code"] in ("deadline_passed", "not_open"), body
    bids = list(Bid.objects.filter(status=BidStatus.ACTIVE))
    assert len(bids) == len(accepted)
    assert all(bid.received_at < deadline for bid in bids)
    published.refresh_from_db()
    assert published.status in (TenderStatus.OPENING, TenderStatus.FAILED)
    assert LotOpening.objects.get(lot=lot).bid_count == len(bids)
