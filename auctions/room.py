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
