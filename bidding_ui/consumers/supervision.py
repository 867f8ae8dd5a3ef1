"""Live supervision dashboard (电子监察): every active opening room, draw and warning.

Stream "supervision" (supervision/live.py), protocol of `StreamConsumer`:
  server → client: {"type": "snapshot", "last_id": N, "state": {"rooms": [...], "draws": [...],
                    "warnings": [...], "counts": {"red": r, "yellow": y}, "computed_at": ...}}
                   {"type": "event", "id": n, "kind": "rooms" | "draws" | "warnings",
                    "payload": {"items": [...], "digest": ..., "computed_at": ...
                                (+ "counts", "added", "removed", "escalated" for warnings)}}
  client → server: {"type": "resync", "since": n} | {"type": "snapshot"}
Each event replaces the list of its kind. Supervisors only (policy rule "supervision.view");
anyone else is closed with code 4403.

While no Celery worker is alive (audit/health.py) nobody else publishes the dashboard's
changes, so the consumer asks `supervision_refresh_if_workers_down` every heartbeat period
(once per process: the stream hub's tick, realtime/hub.py): the red worker warning reaches open dashboards too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async

from accounts.policy import can
from audit.health import heartbeat_interval
from realtime.consumers import StreamConsumer
from realtime.hub import StreamHub
from supervision.live import STREAM_KEY, supervision_overview, supervision_refresh_if_workers_down


class SupervisionConsumer(StreamConsumer):
    def stream_key(self) -> str:
        return STREAM_KEY

    def may_connect(self, user: Any) -> bool:
        return can(user, "supervision.view")

    def build_state(self, user: Any) -> dict:
        return supervision_overview()

    @classmethod
    async def hub_tick(cls, hub: StreamHub) -> None:
        """Once per heartbeat period per process (the hub calls this every tail period)."""
        loop = asyncio.get_running_loop()
        due = hub.state.setdefault("health_due", loop.time() + heartbeat_interval())
        if loop.time() < due:
            return
        hub.state["health_due"] = loop.time() + heartbeat_interval()
        await database_sync_to_async(supervision_refresh_if_workers_down)()
