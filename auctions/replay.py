"""Replay a trade from its audit events alone (docs/auctions.md, "Replay").

The events of object `auctions.trade:<pk>` are folded, in `seq` order, through the same rules
(auctions/engine.py) the services applied: every `auction.bid_accepted` must be a bid the rules
accept at its recorded time against the book rebuilt so far, and must restart the countdown to
the recorded `ends_at`; phase changes set the phase and deadline; the opened reserve and the
book decide the outcome, which must equal the recorded `auction.decided`. The result names the
price, the holder's number, the outcome and every discrepancy found.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from auctions import engine, rules

_PHASES = {"listing": engine.LISTING, "timed": engine.TIMED}


@dataclass
class Replayed:
    price: Decimal | None = None
    number: str | None = None
    bids: int = 0
    reserve: Decimal | None = None
    outcome: str | None = None  # engine.SOLD / NOT_SOLD / "stopped", as recomputed
    recorded_outcome: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.outcome == self.recorded_outcome


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def replay_events(events: list[dict[str, Any]]) -> Replayed:
    """Fold `events` (dicts with seq, action, data; as AuditEvent.as_dict()) of one trade."""
    out = Replayed()
    book: engine.Book | None = None
    for event in sorted(events, key=lambda e: e["seq"]):
        action, data = event["action"], event["data"]
        if action == "auction.trade_created":
            book = engine.Book(phase=engine.CLOSED, start_price=Decimal(data["start_price"]),
                               increment=Decimal(data["increment"]),
                               countdown=rules.countdown_span(int(data["countdown_seconds"])))
        elif book is None:
            continue
        elif action == "auction.increment_changed":
            book = replace(book, increment=Decimal(data["new"]))
        elif action == "auction.phase_changed":
            to = data["to"]
            if to in _PHASES:
                book = replace(book, phase=_PHASES[to], ends_at=_dt(data["ends_at"]))
                if "countdown_us" in data:  # the countdown in effect when the phase began
                    book = replace(book, countdown=timedelta(microseconds=int(data["countdown_us"])))
            else:
                book = engine.close(book)
        elif action == "auction.bid_accepted":
            amount, at, number = Decimal(data["amount"]), _dt(data["at"]), data["number"]
            if data["phase"] == "sole":  # the single transferee's application at the start price
                book = replace(book, price=amount, holder=number, seq=book.seq + 1)
                continue
            refusal = engine.check_bid(book, number=number, amount=amount, at=at)
            if refusal is not None:
                out.problems.append(f"seq {event['seq']}: bid {data['seq']} would be refused ({refusal.code})")
            book = engine.apply_bid(book, number=number, amount=amount, at=at)
            if book.ends_at != _dt(data["ends_at"]):
                out.problems.append(f"seq {event['seq']}: deadline {data['ends_at']} != {book.ends_at}")
        elif action == "auction.reserve_opened":
            out.reserve = Decimal(data["reserve"])
        elif action == "auction.decided":
            out.recorded_outcome = data["outcome"]
            if data["outcome"] == "stopped":
                out.outcome = "stopped"
            elif out.reserve is None:
                out.outcome = engine.NOT_SOLD
            else:
                out.outcome = engine.decide(price=book.price, holder=book.holder, reserve=out.reserve)
            recorded_price = Decimal(data["price"]) if data.get("price") is not None else None
            if recorded_price != book.price or data.get("number") != book.holder:
                out.problems.append(f"decided at {recorded_price}/{data.get('number')}, "
                                    f"replay gives {book.price}/{book.holder}")
    if book is not None:
        out.price, out.number, out.bids = book.price, book.holder, book.seq
    return out


def replay_trade(trade) -> Replayed:
    """Replay from the audit log rows of `trade`."""
    from audit.models import AuditEvent

    rows = AuditEvent.objects.filter(object=f"auctions.trade:{trade.pk}").order_by("seq")
    return replay_events([e.as_dict() for e in rows])
