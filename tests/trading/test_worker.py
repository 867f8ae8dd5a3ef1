"""A real Celery worker (Redis broker) runs the deadline sweep: JSON serialization, acks, the DB."""

import time
import uuid
from datetime import timedelta

import pytest

from trading.models import ScheduledStep, TenderStatus


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_real_worker_sweeps_the_deadline(published, clock):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from trading.tasks import run_due_step, sweep_due_steps

    queue = f"ptrade-test-{uuid.uuid4().hex}"  # never consume other runs' messages
    saved = {k: app.conf[k] for k in ("task_always_eager", "task_default_queue")}
    app.conf.update(task_always_eager=False, task_default_queue=queue)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10):
            clock.move_to(published.bid_deadline + timedelta(seconds=1))  # the worker thread shares the clock
            sweep_due_steps.apply_async(queue=queue)
            run_due_step.apply_async(args=[ScheduledStep.objects.get(kind="bid_deadline").pk], queue=queue)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                published.refresh_from_db()
                if published.status == TenderStatus.BIDDING_CLOSED:
                    break
                time.sleep(0.1)
    finally:
        app.conf.update(saved)
    assert published.status == TenderStatus.BIDDING_CLOSED
    step = ScheduledStep.objects.get(kind="bid_deadline")
    assert step.done_at is not None and step.attempts == 1
