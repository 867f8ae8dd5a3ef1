"""Worker and beat health on the supervision dashboard (issue 20): heartbeats and red warnings."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit import health
from audit.models import WorkerHeartbeat
from audit.tasks import beat_heartbeat
from realtime.models import StreamEvent
from supervision import live
from supervision.live import RED, supervision_warnings


def _age(key: str, seconds: float) -> None:
    WorkerHeartbeat.objects.filter(key=key).update(seen_at=timezone.now() - timedelta(seconds=seconds))


def _health(now=None) -> dict:
    return {w.key: (w.level, w.kind) for w in supervision_warnings(now=now) if w.key.startswith("health:")}


@pytest.mark.django_db
def test_fresh_heartbeats_give_no_warning_and_a_silent_worker_turns_red():
    health.heartbeat_record(kind=health.WORKER, name="celery@a")
    beat_heartbeat()
    assert _health() == {}
    _age("worker:celery@a", 61)
    assert _health() == {"health:worker": (RED, "worker_down")}
    # A second worker that is alive is enough.
    health.heartbeat_record(kind=health.WORKER, name="celery@b")
    assert _health() == {}


@pytest.mark.django_db
def test_a_live_worker_without_beat_heartbeats_warns_about_beat():
    health.heartbeat_record(kind=health.WORKER, name="celery@a")
    beat_heartbeat()
    _age("beat", 120)
    warning = next(w for w in supervision_warnings() if w.key == "health:beat")
    assert warning.level == RED and warning.kind == "beat_down" and "beat or the broker" in warning.detail


@pytest.mark.django_db
def test_no_heartbeat_ever_gives_no_health_warning():
    assert _health() == {}


@pytest.mark.django_db(transaction=True)
def test_the_worker_heartbeat_thread_writes_its_row_until_stopped(settings):
    settings.WORKER_HEARTBEAT_SECONDS = 0.05
    thread = health.HeartbeatThread("celery@thread")
    thread.start()
    try:
        deadline = time.monotonic() + 30  # a busy machine: the thread may wait for a core
        while not WorkerHeartbeat.objects.filter(key="worker:celery@thread").exists():
            assert time.monotonic() < deadline, "no heartbeat written"
            time.sleep(0.05)
    finally:
        thread.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.django_db
def test_the_dashboard_publishes_the_warning_itself_when_no_worker_is_alive():
    health.heartbeat_record(kind=health.WORKER, name="celery@a")
    assert live.supervision_refresh_if_workers_down(min_interval=0) == []  # alive: the worker publishes
    _age("worker:celery@a", 300)
    assert "warnings" in live.supervision_refresh_if_workers_down(min_interval=0)
    event = StreamEvent.objects.filter(stream__key="supervision", kind="warnings").latest("event_id")
    assert event.payload["added"] == ["health:worker"] and event.payload["counts"]["red"] == 1
