"""Property-based tests of the bidding rules (hypothesis): any sequence of bids and clock ticks.

Two levels: the pure rules (many examples) and the real services on the database (fewer
examples, each a whole trade: bids, ticks, end, unsealing, decision, replay from the audit log).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from auctions import engine
from auctions.models import Bid, TradeStatus
from auctions.replay import replay_trade
from auctions.services.bidding import bid_place, trade_advance
from config.errors import DomainError
from tests.auctions.conftest import enrol, new_trade, release_shares

INC = Decimal("10000.00")
START = Decimal("800000.00")

# An operation: ("tick", seconds) or ("bid", buyer index, offset in half-increments from the minimum).
ops = st.lists(st.one_of(
    st.tuples(st.just("tick"), st.integers(min_value=0, max_value=90)),
    st.tuples(st.just("bid"), st.integers(min_value=0, max_value=2), st.integers(min_value=-2, max_value=6)),
), min_size=1, max_size=25)


def _amount(minimum: Decimal, offset: int) -> Decimal:
    return minimum + INC * offset / 2 if offset else minimum


@given(ops=ops, seen=st.integers(min_value=0, max_value=25), offer=st.tuples(
    st.integers(min_value=0, max_value=2), st.integers(min_value=-4, max_value=4)),
    keyed=st.booleans(), late=st.integers(min_value=0, max_value=90))
@settings(max_examples=300, deadline=None)
def test_a_refusal_from_the_rooms_view_is_the_books_refusal(ops, seen, offer, keyed, late):
    """A room that delivered only the first `seen` accepted bids refuses an offer in memory only when
    the true book (every accepted bid, later clock) refuses it at that time, and never
    refuses a keyed retry of the buyer's own amount (it gets its bid back from the service)."""
    t0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
    book = engine.start_timed(engine.Book(phase=engine.TIMED, start_price=START, increment=INC,
                                          countdown=timedelta(seconds=60)), at=t0)
    now, books = t0, [book]
    for op in ops:
        if op[0] == "tick":
            now += timedelta(seconds=op[1])
            continue
        amount = _amount(book.minimum_next(), op[2])
        if engine.check_bid(book, number=f"N{op[1]}", amount=amount, at=now) is None:
            book = engine.apply_bid(book, number=f"N{op[1]}", amount=amount, at=now)
            books.append(book)
    view = books[min(seen, len(books) - 1)]  # what the room delivered: a prefix of the accepted bids
    number = f"N{offer[0]}"
    own = {b.price for b in books[1:books.index(view) + 1] if b.holder == number}
    amount = _amount(view.minimum_next(), offer[1])
    at = now + timedelta(seconds=late)
    decided = engine.too_low_in_room(phase=engine.TIMED, minimum=view.minimum_next(), ends_at=view.ends_at,
                                     amount=amount, at=at, keyed=keyed, history_floor=None, own_amounts=own)
    if decided is not None:
        truth = engine.check_bid(book, number=number, amount=amount, at=at)
        # Refused by the book too: as too low, or as the holder's own bid when its newest bid had not
        # reached the room yet (both true; check_bid names own_highest first).
        assert truth is not None and truth.code in ("too_low", "own_highest")
        assert truth.code == "too_low" or book.holder == number
        assert not (keyed and any(b.holder == number and b.price == amount for b in books[1:]))


@given(ops=ops, reserve=st.integers(min_value=70, max_value=120))
@settings(max_examples=300, deadline=None)
def test_engine_properties(ops, reserve):
    t0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
    book = engine.start_timed(engine.Book(phase=engine.TIMED, start_price=START, increment=INC,
                                          countdown=timedelta(seconds=60)), at=t0)
    now, accepted, deadline = t0, [], book.ends_at
    for op in ops:
        if op[0] == "tick":
            now += timedelta(seconds=op[1])
            continue
        number = f"N{op[1]}"
        amount = _amount(book.minimum_next(), op[2])
        refusal = engine.check_bid(book, number=number, amount=amount, at=now)
        if now >= deadline:
            assert refusal is not None and refusal.code == "expired"  # nothing after expiry
        if refusal is None:
            if accepted:
                assert amount >= accepted[-1][1] + INC  # rises by at least the increment
            book = engine.apply_bid(book, number=number, amount=amount, at=now)
            assert book.ends_at == now + timedelta(seconds=60)  # countdown restarted
            deadline = book.ends_at
            accepted.append((number, amount))
    reserve_value = START * reserve / 100
    outcome = engine.decide(price=book.price, holder=book.holder, reserve=reserve_value)
    if accepted:
        assert (book.holder, book.price) == accepted[-1]  # winner = last valid highest bid
        assert outcome == (engine.SOLD if accepted[-1][1] >= reserve_value else engine.NOT_SOLD)
    else:
        assert outcome == engine.NOT_SOLD


@pytest.mark.django_db
@given(ops=ops, reserve=st.integers(min_value=70, max_value=130))
@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
def test_services_properties_and_replay(world, fake_clock, ops, reserve):
    reserve_value = (START * reserve / 100).quantize(Decimal("0.01"))
    trade = new_trade(world, kind="land_auction", reserve=reserve_value, countdown=60)
    buyers = enrol(world, trade, world.buyers[:3])
    fake_clock.set(trade.starts_at)
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.TIMED
    deadline = trade.ends_at
    accepted = []
    for op in ops:
        if op[0] == "tick":
            fake_clock.advance(seconds=op[1])
            continue
        trade.refresh_from_db()
        minimum = trade.start_price if trade.holder_id is None else trade.price + trade.increment
        amount = _amount(minimum, op[2])
        try:
            result = bid_place(actor=world.buyers[op[1]], buyer=buyers[op[1]], amount=amount)
        except DomainError as exc:
            if fake_clock.t >= deadline:
                assert exc.code in ("bid_expired",), exc.code  # refused with the server time
                assert "server_time" in exc.fields
            continue
        assert fake_clock.t < deadline  # nothing accepted after expiry
        if accepted:
            assert result.bid.amount >= accepted[-1].amount + INC
        deadline = result.bid.ends_at
        accepted.append(result.bid)
    fake_clock.set(max(deadline, fake_clock.t) + timedelta(seconds=1))
    trade = trade_advance(trade=trade)
    if trade.status == TradeStatus.CLOSED:  # with bids: the custodians open the reserve
        trade = release_shares(world, trade)
    bids = list(Bid.objects.filter(trade=trade).order_by("seq"))
    assert [b.pk for b in bids] == [b.pk for b in accepted]
    if bids:
        assert trade.holder_id == bids[-1].buyer_id and trade.price == bids[-1].amount
        expected = TradeStatus.SOLD if bids[-1].amount >= reserve_value else TradeStatus.NOT_SOLD
    else:
        expected = TradeStatus.NOT_SOLD
    assert trade.status == expected
    replayed = replay_trade(trade)
    assert replayed.ok, replayed.problems
    assert replayed.price == trade.price and replayed.bids == len(bids)
    assert replayed.number == (bids[-1].buyer.number if bids else None)
