"""Reads of the auctions app: trades as each user may see them, the room state, results."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.policy import can
from auctions.models import DECIDED_STATUSES, Bid, Buyer, Trade, TradeStatus
from audit.canonical import format_timestamp
from config.errors import NotFoundError
from trading import clock

HISTORY_LIMIT = 200


def _ts(value) -> str | None:
    return format_timestamp(value) if value else None


def trade_get(*, user: Any, public_id: Any, action: str = "auction.view") -> Trade:
    """The trade if `user` may do `action` on it; 404 alike for "not yours" and "does not exist"."""
    try:
        pid = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFoundError(_("No such trade.")) from None
    trade = Trade.objects.select_related("transferor", "agent").filter(public_id=pid).first()
    if trade is None or not can(user, action, trade):
        raise NotFoundError(_("No such trade."))
    return trade


def trades_visible(*, user: Any) -> QuerySet[Trade]:
    """Published trades, plus the drafts of the user's organisation (agent or transferor)."""
    shown = ~Q(status=TradeStatus.DRAFT)
    org = getattr(user, "organisation_id", None) if getattr(user, "is_authenticated", False) else None
    if org:
        shown |= Q(agent_id=org) | Q(transferor_id=org)
    return Trade.objects.select_related("transferor", "agent").filter(shown).order_by("-created_at", "-pk")


def buyer_of(*, user: Any, trade: Trade) -> Buyer | None:
    if not getattr(user, "is_authenticated", False) or not user.organisation_id:
        return None
    return Buyer.objects.filter(trade=trade, organisation_id=user.organisation_id).first()


def trade_public(trade: Trade) -> dict[str, Any]:
    """What the notice and the public result show (never the reserve before the end, never names of
    buyers before the end)."""
    decided = trade.status in DECIDED_STATUSES
    data = {
        "id": str(trade.public_id), "code": trade.code, "kind": trade.kind, "title": trade.title,
        "description": trade.description, "particulars": trade.particulars, "status": trade.status,
        "transferor": trade.transferor.name, "agent": trade.agent.name,
        "start_price": str(trade.start_price), "increment": str(trade.increment),
        "deposit_amount": str(trade.deposit_amount), "countdown_seconds": trade.countdown_seconds,
        "starts_at": _ts(trade.starts_at), "listing_ends_at": _ts(trade.listing_ends_at),
        "notice_published_at": _ts(trade.notice_published_at),
        "opening_key_id": trade.opening_key_id, "opening_public_key": trade.opening_public_spki,
        "reserve_sealed_sha256": trade.reserve_sealed_sha256 or None,
        "price": str(trade.price) if trade.price is not None else None, "bid_count": trade.bid_count,
        "ends_at": _ts(trade.ends_at), "closed_at": _ts(trade.closed_at),
        "reserve": str(trade.reserve) if decided and trade.reserve is not None else None,
        "outcome_reason": trade.outcome_reason if decided else "",
        "result_due_at": _ts(trade.result_due_at), "result_published_at": _ts(trade.result_published_at),
        "winner": None,
        "relisted_from": str(trade.relisted_from.public_id) if trade.relisted_from_id else None,
    }
    if trade.status == TradeStatus.SOLD and trade.holder_id:
        holder = Buyer.objects.select_related("organisation").get(pk=trade.holder_id)
        data["winner"] = {"number": holder.number, "name": holder.organisation.name}
    return data


def history(trade: Trade, limit: int = HISTORY_LIMIT) -> list[dict]:
    rows = (Bid.objects.filter(trade=trade).select_related("buyer").order_by("-seq")[:limit])
    return [{"seq": b.seq, "number": b.buyer.number, "amount": str(b.amount), "phase": b.phase,
             "at": _ts(b.accepted_at), "ends_at": _ts(b.ends_at)} for b in reversed(list(rows))]


def room_state(*, user: Any, trade: Trade) -> dict[str, Any]:
    """The live room as `user` sees it: identical for everyone except `me` (own number and standing)
    and, for supervisors only, `numbers` (number → name)."""
    trade = Trade.objects.select_related("transferor", "agent").get(pk=trade.pk)
    holder = Buyer.objects.filter(pk=trade.holder_id).values_list("number", flat=True).first() if trade.holder_id \
        else None
    minimum = trade.start_price if holder is None else trade.price + trade.increment
    state: dict[str, Any] = {
        "trade": trade_public(trade),
        "status": trade.status, "price": str(trade.price) if trade.price is not None else None,
        "holder": holder, "increment": str(trade.increment), "next_minimum": str(minimum),
        "ends_at": _ts(trade.ends_at), "server_time": _ts(clock.now()), "bid_count": trade.bid_count,
        "history": history(trade), "me": None, "numbers": None,
    }
    mine = buyer_of(user=user, trade=trade)
    if mine is not None:
        state["me"] = {"number": mine.number or None, "status": mine.status, "deposit_state": mine.deposit_state,
                       "may_bid": mine.may_bid, "wants_live_round": mine.wants_live_round,
                       "holding": bool(mine.number) and mine.number == holder}
    if can(user, "auction.view_numbers", trade):
        state["numbers"] = {b.number: b.organisation.name for b in
                            Buyer.objects.filter(trade=trade).exclude(number="").select_related("organisation")}
    return state


def buyers_for(*, user: Any, trade: Trade) -> list[dict]:
    """Applications as the agent (names, no numbers during the trade) or a supervisor (both) sees them."""
    show_numbers = can(user, "auction.view_numbers", trade)
    out = []
    for b in Buyer.objects.filter(trade=trade).select_related("organisation").order_by("applied_at", "pk"):
        out.append({"id": str(b.public_id), "organisation": b.organisation.name, "status": b.status,
                    "documents": b.documents, "applied_at": _ts(b.applied_at), "review_note": b.review_note,
                    "deposit_state": b.deposit_state, "deposit_paid": str(b.deposit_paid),
                    "number": b.number or None if show_numbers else None})
    return out


def buyer_view(buyer: Buyer) -> dict:
    """A buyer's own application, with its number and sub-account."""
    return {"id": str(buyer.public_id), "trade": str(buyer.trade.public_id), "status": buyer.status,
            "number": buyer.number or None, "deposit_account": buyer.deposit_account,
            "deposit_required": str(buyer.trade.deposit_amount), "deposit_paid": str(buyer.deposit_paid),
            "deposit_state": buyer.deposit_state, "may_bid": buyer.may_bid,
            "wants_live_round": buyer.wants_live_round, "documents": buyer.documents,
            "review_note": buyer.review_note}


def results_public() -> QuerySet[Trade]:
    return (Trade.objects.select_related("transferor", "agent").filter(result_published_at__isnull=False)
            .order_by("-result_published_at", "-pk"))


def result_published_get(*, public_id: Any) -> Trade:
    """A trade whose result is published (open data); 404 for any other, existing or not."""
    try:
        pid = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFoundError(_("No published result of this trade.")) from None
    trade = (Trade.objects.select_related("transferor", "agent", "relisted_from")
             .filter(public_id=pid, result_published_at__isnull=False).first())
    if trade is None:
        raise NotFoundError(_("No published result of this trade."))
    return trade


def running_trades() -> list[dict]:
    """Every running or closing trade, for the supervisors' live view."""
    rows = Trade.objects.filter(status__in=(TradeStatus.PUBLISHED, TradeStatus.LISTING, TradeStatus.TIMED,
                                            TradeStatus.CLOSED)).order_by("ends_at", "starts_at", "pk")
    return [{"id": str(t.public_id), "code": t.code, "title": t.title, "status": t.status,
             "price": str(t.price) if t.price is not None else None, "ends_at": _ts(t.ends_at),
             "bid_count": t.bid_count, "stream": t.stream_key} for t in rows]


def room_snapshot(*, user: Any, trade: Trade) -> tuple[int, dict]:
    """(last event id, state) under the stream's row lock, as the consumer takes it."""
    from django.db import transaction

    from realtime.models import Stream
    from realtime.streams import stream_get

    with transaction.atomic():
        stream_get(trade.stream_key)
        stream = Stream.objects.select_for_update().get(key=trade.stream_key)
        return stream.last_id, room_state(user=user, trade=trade)


def room_events(*, trade: Trade, since: int, limit: int = 500) -> list[dict]:
    """Room events after `since` (all public: numbers only)."""
    from realtime.streams import stream_events_since

    return [{"id": e["id"], "kind": e["kind"], "payload": e["payload"], "at": e["at"]}
            for e in stream_events_since(trade.stream_key, since, limit)]
