"""Worker and beat health (docs/operations.md, "Faults and recovery").

- Every Celery worker process writes `WorkerHeartbeat("worker:<hostname>")` every
  `settings.WORKER_HEARTBEAT_SECONDS` (default 15 s) from a thread started when the worker is
  ready (config/celery.py); the thread stops with the worker.
- Beat sends `audit.beat_heartbeat` at the same period (audit/schedule.py); the worker that runs
  it writes `WorkerHeartbeat("beat")`. So the "beat" row is fresh only when beat, the broker and a
  worker all work.

Supervision warnings (supervision/live.py, source "workers", from `health_status`), with
`stale` = `settings.WORKER_STALE_SECONDS` (default 60 s), measured with the server clock:
- `worker_down` (red): heartbeats were recorded, but none from any worker within `stale`;
- `beat_down` (red): a worker is alive but no beat heartbeat arrived within `stale` (beat or the
  broker is down: scheduled steps are not being swept).
No row at all (a platform whose worker never started) gives no such warning; the "steps"
source still turns red for every step left pending past its grace.

Heartbeats are operational telemetry, overwritten in place: they are not audited (an event
every 15 s would bury the chain), and they decide nothing.

While no worker is alive the worker cannot publish the dashboard's changes either; the
dashboard consumer (web) calls `supervision.live.supervision_refresh_if_workers_down`
periodically, which publishes the warnings itself in that case.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from audit.models import WorkerHeartbeat

logger = logging.getLogger(__name__)
WORKER, BEAT = "worker", "beat"


def heartbeat_interval() -> float:
    return float(getattr(settings, "WORKER_HEARTBEAT_SECONDS", 15))


def stale_after() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "WORKER_STALE_SECONDS", 60)))


def heartbeat_record(*, kind: str, name: str = "") -> WorkerHeartbeat:
    """Upsert the heartbeat row of a worker (`name` = its hostname) or of beat."""
    key = f"{WORKER}:{name}" if kind == WORKER else BEAT
    row, _ = WorkerHeartbeat.objects.update_or_create(
        key=key, defaults={"kind": kind, "seen_at": timezone.now(), "pid": os.getpid()})
    return row


def health_status(*, now=None) -> dict:
    """{"worker_last": datetime|None, "beat_last": datetime|None, "worker_ok": bool|None, "beat_ok": bool|None}
    (None: never recorded)."""
    now = now or timezone.now()
    stale = stale_after()
    rows = list(WorkerHeartbeat.objects.order_by("-seen_at").values_list("kind", "seen_at"))
    worker_last = next((seen for kind, seen in rows if kind == WORKER), None)
    beat_last = next((seen for kind, seen in rows if kind == BEAT), None)
    return {
        "worker_last": worker_last, "beat_last": beat_last,
        "worker_ok": None if worker_last is None else now - worker_last <= stale,
        "beat_ok": None if beat_last is None else now - beat_last <= stale,
    }


class HeartbeatThread(threading.Thread):
    """Started by the worker when it is ready (config/celery.py); writes the worker's row."""

    def __init__(self, hostname: str) -> None:
        super().__init__(name="ptrade-heartbeat", daemon=True)
        self.hostname = hostname
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                heartbeat_record(kind=WORKER, name=self.hostname)
            except Exception:  # the database is away: try again next period
                logger.warning("worker heartbeat failed", exc_info=True)
            finally:
                close_old_connections()
            self.stopping.wait(heartbeat_interval())

    def stop(self) -> None:
        self.stopping.set()
