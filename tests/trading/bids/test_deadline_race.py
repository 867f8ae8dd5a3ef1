"""Concurrent uploads around the deadline on PostgreSQL: nothing committed at or after it.

Sixteen uploads pass their pre-check before the deadline and stream their envelopes; each then
waits at a gate. Half are let through while the test's clock is still before the deadline: they
must be accepted. Then the clock moves to the deadline, and the other half are let through at the
same moment as the bid_deadline step closes the tender in another thread, so their accepting
transactions and the closing one contend for the tender's row lock. Every one of them is refused
(whichever wins the lock: the deadline has passed, or the tender is no longer open), each committed
bid was received before the deadline, and the opening counts exactly the committed bids.

Time is the `clock` fixture's: it moves only when the test moves it, so a slow or busy machine
changes the interleaving of the threads but never which side of the deadline an upload is on.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from tests.trading.sealed import bidder_with_key, seal, sign, upload
from trading.bids import submission
from trading.models import Bid, BidStatus, LotOpening, TenderStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 120  # seconds: generous for a busy machine; a thread that waits longer fails the test


def test_concurrent_uploads_around_the_deadline(published, make_user, clock, monkeypatch):
    from trading.services.registrations import registration_create
    from trading.services.scheduling import steps_run_due

    lot = published.lots.get()
    deadline = published.bid_deadline
    bidders = []
    for _ in range(16):
        sealed = bidder_with_key(make_user("bidder"))
        registration_create(actor=sealed.user, lot=lot)
        bidders.append(sealed)
    signed = [(b, env, sign(b, env)) for b, env in ((b, seal(lot, b)) for b in bidders)]
    early, late = signed[::2], signed[1::2]
    clock.move_to(deadline - timedelta(minutes=1))

    gates = {b.user.pk: threading.Event() for b, _env, _sig in signed}
    received = threading.Semaphore(0)
    real_receive = submission.envelope_receive

    def gated_receive(**kw):
        result = real_receive(**kw)
        received.release()
        assert gates[kw["actor"].pk].wait(WAIT), "gate never opened"
        return result

    monkeypatch.setattr(submission, "envelope_receive", gated_receive)
    results: dict[int, tuple[int, dict]] = {}
    done = {b.user.pk: threading.Event() for b, _env, _sig in signed}
    errors: list[BaseException] = []

    def run(bidder, envelope, signature):
        try:
            response = upload(lot, bidder, envelope, signature=signature)
            results[bidder.user.pk] = (response.status_code, response.json())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            done[bidder.user.pk].set()
            connection.close()

    closing = threading.Barrier(len(late) + 1)
    closed: list = []

    def close_at_deadline():
        try:
            closing.wait(WAIT)
            closed.extend(steps_run_due())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    def release_late(bidder):
        closing.wait(WAIT)
        gates[bidder.user.pk].set()

    threads = [threading.Thread(target=run, args=item, name=f"upload-{item[0].user.pk}") for item in signed]
    for t in threads:
        t.start()
    for _ in signed:  # every upload passed its pre-check and streamed before the deadline
        assert received.acquire(timeout=WAIT), (errors, results)

    for bidder, _env, _sig in early:
        gates[bidder.user.pk].set()
    for bidder, _env, _sig in early:
        assert done[bidder.user.pk].wait(WAIT)

    clock.move_to(deadline + timedelta(milliseconds=1))
    helpers = [threading.Thread(target=close_at_deadline, name="closer")]
    helpers += [threading.Thread(target=release_late, args=(b,), name=f"release-{b.user.pk}") for b, _e, _s in late]
    for t in helpers:
        t.start()
    for t in [*threads, *helpers]:
        t.join(WAIT)
        assert not t.is_alive(), f"{t.name} still running"

    assert not errors, errors
    assert len(results) == len(signed)
    for bidder, _env, _sig in early:
        assert results[bidder.user.pk][0] == 201, results[bidder.user.pk]
    for bidder, _env, _sig in late:
        status, body = results[bidder.user.pk]
        assert status != 201 and body["error"]["code"] in ("deadline_passed", "not_open"), body
    assert any(step.kind == "bid_deadline" for step in closed)
    bids = list(Bid.objects.filter(status=BidStatus.ACTIVE))
    assert {bid.received_at < deadline for bid in bids} == {True}
    assert len(bids) == len(early)
    published.refresh_from_db()
    assert published.status in (TenderStatus.OPENING, TenderStatus.FAILED)
    assert LotOpening.objects.get(lot=lot).bid_count == len(bids)
