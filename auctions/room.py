"""The live room's reducer: how a client folds room events into the snapshot state.

The same function exists in auctions/static/auctions/room.js; tests check that a snapshot plus
the events after it equals a later snapshot (reconnect and late join give the identical state).
Events (stream "auction:<trade public id>", all public, numbers only):
  bid       {seq, number, amount, phase, at, ends_at, next_minimum}
  phase     {status, ends_at, reason, at}
  increment {increment}
  result    {status, reason, price, number, reserve}
  published {at}
The snapshot's "trade" (the notice, with the reserve and winner once decided) and "server_time"
are not folded: a client re-reads the snapshot when a "result" event arrives.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

HISTORY_LIMIT = 200


def apply_event(state: dict[str, Any], kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    if kind == "bid":
        state.update(price=payload["amount"], holder=payload["number"], ends_at=payload["ends_at"],
                     bid_count=payload["seq"], next_minimum=payload["next_minimum"])
        state["history"] = (state.get("history") or []) + [
            {k: payload[k] for k in ("seq", "number", "amount", "phase", "at", "ends_at")}]
        state["history"] = state["history"][-HISTORY_LIMIT:]
        if state.get("me"):
            state["me"]["holding"] = state["me"].get("number") == payload["number"]
    elif kind == "phase":
        state.update(status=payload["status"], ends_at=payload["ends_at"])
    elif kind == "increment":
        state["increment"] = payload["increment"]
        if state.get("holder"):
            state["next_minimum"] = str(Decimal(state["price"]) + Decimal(payload["increment"]))
    elif kind == "result":
        state.update(status=payload["status"], ends_at=None)
    return state


# --- What a server process knows of the room (auctions.consumers): the freshest committed book ----------
REORDER_LIMIT = 100  # events held back waiting for a missing id before the book is given up


def known_book(last_id: int, state: dict[str, Any]) -> dict[str, Any]:
    """The book as of a snapshot (`last_id`, `state`): status, next minimum, deadline, every bidder
    number's amounts in the history window, and the window's floor when older bids fell out of it."""
    history = state.get("history") or []
    own: dict[str, set[Decimal]] = {}
    for h in history:
        own.setdefault(h["number"], set()).add(Decimal(h["amount"]))
    return {"last_id": last_id, "status": state["status"], "minimum": Decimal(state["next_minimum"]),
            "deadline": state["ends_at"], "own": own, "pending": {},
            "floor": Decimal(history[0]["amount"]) if history and state["bid_count"] > len(history) else None}


def book_observe(book: dict[str, Any] | None, event: dict[str, Any]) -> dict[str, Any] | None:
    """Fold one stream event (any order; applied in id order, duplicates ignored). None: given up
    (too many events held back), until the next snapshot."""
    if book is None or event["id"] <= book["last_id"]:
        return book
    book["pending"][event["id"]] = event
    while book["last_id"] + 1 in book["pending"]:
        e = book["pending"].pop(book["last_id"] + 1)
        book["last_id"] = e["id"]
        kind, payload = e["kind"], e.get("payload") or {}
        if kind == "bid":
            book["minimum"], book["deadline"] = Decimal(payload["next_minimum"]), payload["ends_at"]
            book["own"].setdefault(payload["number"], set()).add(Decimal(payload["amount"]))
        elif kind in ("phase", "result"):
            book["status"], book["deadline"] = payload["status"], payload.get("ends_at")
        elif kind == "increment":
            book["status"] = None  # only in listings; the service decides until the next snapshot
    return None if len(book["pending"]) > REORDER_LIMIT else book
