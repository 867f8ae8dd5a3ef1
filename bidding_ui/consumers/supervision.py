"""Live supervision dashboard (电子监察): every active opening room, draw and warning.

Stream "supervision" (audit/supervision.py), protocol of `StreamConsumer`:
  server → client: {"type": "snapshot", "last_id": N, "state": {"rooms": [...], "draws": [...],
                    "warnings": [...], "counts": {"red": r, "yellow": y}, "computed_at": ...}}
                   {"type": "event", "id": n, "kind": "rooms" | "draws" | "warnings",
                    "payload": {"items": [...], "digest": ..., "computed_at": ...
                                (+ "counts", "added", "removed", "escalated" for warnings)}}
  client → server: {"type": "resync", "since": n} | {"type": "snapshot"}
Each event replaces the list of its kind. Supervisors only (policy rule "supervision.view");
anyone else is closed with code 4403.
"""

from __future__ import annotations

from typing import Any

from accounts.policy import can
from audit.supervision import STREAM_KEY, supervision_overview
from bidding_ui.consumers.base import StreamConsumer


class SupervisionConsumer(StreamConsumer):
    def stream_key(self) -> str:
        return STREAM_KEY

    def may_connect(self, user: Any) -> bool:
        return can(user, "supervision.view")

    def build_state(self, user: Any) -> dict:
        return supervision_overview()
