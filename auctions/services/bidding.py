"""The book: phase changes by the server's clock, and bids (listing quotes and timed rounds).

Every decision is taken under the trade's row lock with `trading.clock.deadline_now()` (the
database's clock on PostgreSQL): bids are strictly ordered by lock acquisition, and a bid whose
time is at or after the running deadline is refused with that time. The rules themselves are
the pure functions of auctions/engine.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from auctions import engine, rules
from auctions.models import Bid, Buyer, Kind, Trade, TradeStatus
from auctions.services import buyers as buyer_services
from auctions.services.common import emit, lock, money
from audit.canonical import format_timestamp
from audit.receipts import receipt_issue
from audit.services import audit_record
from config.errors import DomainError, RuleViolation, StateConflict
from credit.services import access_check
from trading import clock

_PHASE = {TradeStatus.LISTING: engine.LISTING, TradeStatus.TIMED: engine.TIMED}


def book_of(trade: Trade) -> engine.Book:
    return engine.Book(
        phase=_PHASE.get(trade.status, engine.CLOSED), start_price=trade.start_price, increment=trade.increment,
        price=trade.price, holder=trade.holder.number if trade.holder_id else None, ends_at=trade.ends_at,
        countdown=rules.countdown_span(trade.countdown_seconds), seq=trade.bid_count)


def _phase(trade: Trade, status: str, *, at: datetime, reason: str = "") -> None:
    old = trade.status
    trade.status = status
    fields = ["status", "ends_at"]
    if status == TradeStatus.TIMED:
        trade.round_started_at = at
        trade.ends_at = at + rules.countdown_span(trade.countdown_seconds)
        fields.append("round_started_at")
    elif status == TradeStatus.LISTING:
        trade.ends_at = trade.listing_ends_at
    else:
        trade.ends_at = None
    if status in (TradeStatus.CLOSED, TradeStatus.STOPPED):
        trade.closed_at = at
        fields.append("closed_at")
    if reason:
        trade.outcome_reason = reason
        fields.append("outcome_reason")
    trade.save(update_fields=fields)
    # The countdown in effect (sandbox acceleration included), so a replay restarts it identically.
    countdown_us = rules.countdown_span(trade.countdown_seconds) // timedelta(microseconds=1)
    audit_record(actor="system", action="auction.phase_changed", obj=trade,
                 data={"from": old, "to": status, "at": at, "ends_at": trade.ends_at, "reason": reason,
                       "countdown_us": countdown_us})
    emit(trade, "phase", {"status": status, "ends_at": format_timestamp(trade.ends_at) if trade.ends_at else None,
                          "reason": reason, "at": format_timestamp(at)})


def _advance_locked(trade: Trade, now: datetime) -> Trade:
    """Apply every phase change due at `now` (idempotent; the trade's row is locked)."""
    from auctions.services import ending

    for _step in range(4):
        r = rules.rules_for(trade.kind)
        if trade.status == TradeStatus.PUBLISHED and now >= trade.starts_at:
            at = trade.starts_at
            if trade.kind == Kind.LAND_LISTING:
                _phase(trade, TradeStatus.LISTING, at=at)
                continue
            ready = buyer_services.eligible(trade)
            if trade.kind == Kind.LAND_AUCTION and len(ready) < r.min_buyers.value:
                _phase(trade, TradeStatus.STOPPED, at=at, reason="too_few_buyers")
                ending.settle_unsold(trade, reason="too_few_buyers")
                return trade
            if trade.kind == Kind.ASSET_TRANSFER and len(ready) < r.live_round_min_buyers.value:
                if ready:  # one qualified transferee: its application is a quote at the start price
                    _accept(trade, ready[0], trade.start_price, at=at, phase="sole", key="")
                _phase(trade, TradeStatus.CLOSED, at=at, reason="single_buyer" if ready else "no_buyers")
                continue
            _phase(trade, TradeStatus.TIMED, at=at)
            continue
        if trade.status == TradeStatus.LISTING and now >= trade.ends_at:
            at = trade.ends_at
            going_on = [b for b in buyer_services.eligible(trade) if b.wants_live_round]
            if len(going_on) >= r.live_round_min_buyers.value:
                _phase(trade, TradeStatus.TIMED, at=at)
            else:
                _phase(trade, TradeStatus.CLOSED, at=at, reason="listing_ended")
            continue
        if trade.status == TradeStatus.TIMED and now >= trade.ends_at:
            _phase(trade, TradeStatus.CLOSED, at=trade.ends_at, reason="countdown_expired")
            continue
        if trade.status == TradeStatus.CLOSED and trade.bid_count == 0 and trade.decided_at is None:
            ending.decide_locked(trade, reserve=None, at=now)
        return trade
    return trade


@transaction.atomic
def trade_advance(*, trade: Trade, now: datetime | None = None) -> Trade:
    """Move the trade through every phase change its times call for (sweep, room, bids)."""
    trade = lock(trade)
    return _advance_locked(trade, now or clock.deadline_now())


def _accept(trade: Trade, buyer: Buyer, amount: Decimal, *, at: datetime, phase: str, key: str) -> Bid:
    book = book_of(trade)
    after = engine.apply_bid(book, number=buyer.number, amount=amount, at=at)
    trade.price, trade.holder, trade.bid_count, trade.ends_at = amount, buyer, after.seq, after.ends_at
    trade.save(update_fields=["price", "holder", "bid_count", "ends_at"])
    data = {"seq": after.seq, "number": buyer.number, "amount": amount, "phase": phase, "at": at,
            "ends_at": after.ends_at}
    event = audit_record(actor="system" if phase == "sole" else buyer.applied_by, action="auction.bid_accepted",
                         obj=trade, data=data)
    signed = receipt_issue(event=event, payload={
        "kind": "auction.bid", "trade": str(trade.public_id), "trade_code": trade.code, "number": buyer.number,
        "amount": str(amount), "seq": after.seq, "accepted_at": format_timestamp(at)}, holder_org=buyer.organisation)
    bid = Bid.objects.create(trade=trade, buyer=buyer, seq=after.seq, phase=phase, amount=amount, accepted_at=at,
                             ends_at=after.ends_at, idempotency_key=key, audit_seq=event.seq,
                             receipt_id=signed["receipt"]["receipt_id"])
    emit(trade, "bid", {"seq": after.seq, "number": buyer.number, "amount": str(amount), "phase": phase,
                        "at": format_timestamp(at),
                        "ends_at": format_timestamp(after.ends_at) if after.ends_at else None,
                        "next_minimum": str(amount + trade.increment)})
    bid.receipt = signed
    return bid


@dataclass
class BidResult:
    bid: Bid
    replayed: bool
    receipt: dict | None


_REFUSALS = {
    "not_open": (StateConflict, "not_open"),
    "not_started": (StateConflict, "not_open"),
    "expired": (RuleViolation, "bid_expired"),
    "too_low": (RuleViolation, "bid_too_low"),
    "own_highest": (StateConflict, "own_highest"),
}


def refusal_error(code: str, *, at: datetime, minimum: Decimal | None, status: str) -> DomainError:
    """The error a refused bid gets (code, message naming the rule's source, server time, minimum)."""
    server_time = format_timestamp(at)
    messages = {
        "not_open": _("Bidding is not open on this trade (status %(status)s).") % {"status": status},
        "expired": _("The bid arrived at %(time)s, after bidding closed; the server's clock decides "
                     "(%(source)s).") % {"time": server_time, "source": rules.BID_RULE_SOURCE},
        "too_low": _("A bid must be at least %(minimum)s (the current price plus the increment, or the start "
                     "price for the first bid; %(source)s).") % {"minimum": minimum, "source": rules.BID_RULE_SOURCE},
        "own_highest": _("You hold the highest bid already."),
    }
    cls, err = _REFUSALS[code]
    return cls(messages.get(code, messages["not_open"]), code=err,
               fields={"server_time": server_time, **({"minimum": str(minimum)} if minimum is not None else {})})


def _refusal_before_lock(buyer: Buyer, value: Decimal, *, key: str) -> DomainError | None:
    """A bid the last committed book refuses as too low (or as the holder's own, in a timed round)
    is refused without waiting for the trade's lock.

    Why this is the same decision as under the lock: the refusal is taken against one committed
    state of the book, read with the database's time after it, while bidding is open and the
    deadline not reached (else the locked path decides, which also advances phases). That is the
    decision the locked path would take at that instant: the bid is ordered before every bid still
    in flight. In a burst most offers carry a price someone else has beaten already; refusing them
    here keeps the lock for the bids that can win. A retry whose idempotency key already placed a
    bid, and a buyer who may not bid at all, go the locked path for their own answer."""
    trade = Trade.objects.select_related("holder").get(pk=buyer.trade_id)
    if trade.status not in _PHASE or trade.ends_at is None:
        return None
    now = clock.deadline_now()
    if now >= trade.ends_at or not buyer.may_bid:
        return None
    refusal = engine.check_bid(book_of(trade), number=buyer.number, amount=value, at=now)
    if refusal is None or refusal.code not in ("too_low", "own_highest"):
        return None
    if key and Bid.objects.filter(buyer=buyer, idempotency_key=key).exists():
        return None
    return refusal_error(refusal.code, at=now, minimum=refusal.minimum, status=trade.status)


@transaction.atomic
def bid_place(*, actor: Any, buyer: Buyer, amount: Any, idempotency_key: str = "") -> BidResult:
    """Place a bid as `buyer` (a listing quote or a timed-round bid). With an idempotency key, a
    repeated request returns the bid it already placed (the same amount, else 409)."""
    authorize(actor, "auction.bid_as", buyer)
    value = money(amount, field="amount")
    key = (idempotency_key or "").strip()
    if len(key) > 64:
        raise DomainError(_("The idempotency key is at most 64 characters."), fields={"idempotency_key": ["long"]})
    early = _refusal_before_lock(buyer, value, key=key)
    if early is not None:
        raise early
    trade = lock(buyer.trade)
    if key:
        known = Bid.objects.filter(buyer=buyer, idempotency_key=key).first()
        if known is not None:
            if known.amount != value:
                raise StateConflict(_("This idempotency key was used for another amount."), code="idempotency_reused")
            return BidResult(known, True, None)
    now = clock.deadline_now()
    trade = _advance_locked(trade, now)
    if trade.status not in (TradeStatus.LISTING, TradeStatus.TIMED):
        ended = trade.closed_at is not None and now >= trade.closed_at  # bidding ended by the clock
        raise refusal_error("expired" if ended else "not_open", at=now, minimum=None, status=trade.status)
    buyer = Buyer.objects.get(pk=buyer.pk)
    if not buyer.may_bid:
        raise StateConflict(_("You may bid once your application is qualified and your deposit is booked "
                              "(国土资源部令第39号 Art 8–9*)."), code="not_eligible")
    access_check(buyer.organisation_id, "auction_bidding", at=now)  # a bar decided during the trade stops bidding
    if trade.status == TradeStatus.TIMED and trade.kind == Kind.LAND_LISTING and not buyer.wants_live_round:
        raise StateConflict(_("The timed round is between the buyers who asked to go on."), code="not_in_round")
    refusal = engine.check_bid(book_of(trade), number=buyer.number, amount=value, at=now)
    if refusal is not None:
        raise refusal_error(refusal.code, at=now, minimum=refusal.minimum, status=trade.status)
    bid = _accept(trade, buyer, value, at=now, phase=_PHASE[trade.status], key=key)
    return BidResult(bid, False, bid.receipt)


def trades_advance_due(*, now: datetime | None = None) -> int:
    """Advance every trade with a due start or deadline; each in its own transaction (idempotent)."""
    now = now or clock.deadline_now()
    due = (Trade.objects.filter(status=TradeStatus.PUBLISHED, starts_at__lte=now)
           | Trade.objects.filter(status__in=(TradeStatus.LISTING, TradeStatus.TIMED), ends_at__lte=now))
    moved = 0
    for trade in due.order_by("pk"):
        trade_advance(trade=trade, now=now)
        moved += 1
    return moved
