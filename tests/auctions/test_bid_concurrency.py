"""Bids against a locked trade (PostgreSQL): offers the committed book already refuses do not wait
for the trade's row lock; everything else does, and the order is the lock's."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction

from auctions.models import Bid, Trade
from auctions.services.bidding import bid_place
from config.errors import RuleViolation, StateConflict
from tests.auctions.conftest import enrol, new_trade

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks: PostgreSQL")]


def _in_thread(fn):
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except Exception as exc:  # noqa: BLE001 - inspected by the test
            box["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


@pytest.fixture
def listing(world, fake_clock):
    trade = new_trade(world, kind="land_auction", countdown=300)
    buyers = enrol(world, trade, world.buyers[:3])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="800000.00")  # starts the round, first bid
    return trade, buyers


def test_a_too_low_offer_is_refused_while_the_trade_is_locked(world, listing):
    trade, buyers = listing
    assert connection.vendor == "postgresql"
    with transaction.atomic():
        Trade.objects.select_for_update().get(pk=trade.pk)  # a bid in flight holds the lock
        started = time.monotonic()
        thread, box = _in_thread(lambda: bid_place(actor=world.buyers[1], buyer=buyers[1], amount="800000.00"))
        thread.join(10)
        waited = time.monotonic() - started
        assert not thread.is_alive(), "the too-low offer waited for the lock"
        assert isinstance(box.get("error"), RuleViolation) and box["error"].code == "bid_too_low"
        assert box["error"].fields["minimum"] == "810000.00" and "server_time" in box["error"].fields
        # The holder outbidding itself in the timed round is refused the same way.
        thread, box = _in_thread(lambda: bid_place(actor=world.buyers[0], buyer=buyers[0], amount="900000.00"))
        thread.join(10)
        assert isinstance(box.get("error"), StateConflict) and box["error"].code == "own_highest"
    assert waited < 10


def test_a_valid_offer_waits_for_the_lock_and_sees_the_bid_before_it(world, listing):
    trade, buyers = listing
    release = threading.Event()
    holder_done = threading.Event()

    def first_bid():
        with transaction.atomic():
            result = bid_place(actor=world.buyers[1], buyer=buyers[1], amount="810000.00")
            holder_done.set()
            release.wait(10)
            return result

    first, first_box = _in_thread(first_bid)
    assert holder_done.wait(10)
    # Valid against the committed book (800000 + increment): it must wait, then lose to the bid before it.
    second, second_box = _in_thread(lambda: bid_place(actor=world.buyers[2], buyer=buyers[2], amount="810000.00"))
    second.join(1)
    assert second.is_alive(), "a bid the committed book allows must take the lock"
    release.set()
    first.join(10)
    second.join(10)
    assert "result" in first_box
    assert isinstance(second_box.get("error"), RuleViolation) and second_box["error"].code == "bid_too_low"
    assert list(Bid.objects.filter(trade=trade).order_by("seq").values_list("amount", flat=True)) == [
        800000, 810000]


def test_a_retried_key_gets_its_bid_back_even_when_now_too_low(world, listing):
    trade, buyers = listing
    first = bid_place(actor=world.buyers[1], buyer=buyers[1], amount="810000.00", idempotency_key="k-1")
    bid_place(actor=world.buyers[2], buyer=buyers[2], amount="820000.00")
    again = bid_place(actor=world.buyers[1], buyer=buyers[1], amount="810000.00", idempotency_key="k-1")
    assert again.replayed and again.bid.pk == first.bid.pk
    with pytest.raises(RuleViolation) as low:  # the same amount under a new key: too low now
        bid_place(actor=world.buyers[1], buyer=buyers[1], amount="810000.00", idempotency_key="k-2")
    assert low.value.code == "bid_too_low"
