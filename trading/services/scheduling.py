"""Due times in the database, swept by a frequent beat task (PITFALLS.md: no long ETA tasks).

`step_schedule` upserts a `ScheduledStep` (kind, subject) with its due time.
`steps_run_due` (called by the beat task `trading.tasks.sweep_due_steps` every
few seconds) takes due rows one at a time with `select_for_update(skip_locked=True)`,
runs the kind's handler (trading/steps.py) in a savepoint and marks `done_at`
in the same transaction: if the worker dies the transaction rolls back and the
next sweep runs the step again; a step is never done twice because the row is
locked while it runs and is no longer selected once done. Handlers are
idempotent anyway (they check the object's status).

For precision, a step due within `STEP_PRECISION_WINDOW` seconds also gets a
short-countdown task `trading.tasks.run_due_step` after commit; the sweep stays
the safety net if that task is lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from trading import clock
from trading.models import ScheduledStep
from trading.steps import Defer, handler_for
from trading.tasks import run_due_step

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 5.0
MAX_BACKOFF = timedelta(hours=1)


def precision_window() -> float:
    return float(getattr(settings, "STEP_PRECISION_WINDOW", 60))


def _enqueue_precise(step_id: int, due_at: datetime) -> None:
    delay = (due_at - clock.now()).total_seconds()
    if delay > precision_window():
        return
    try:
        run_due_step.apply_async(args=[step_id], countdown=max(0.0, delay) + 0.05)
    except Exception:  # a lost precision task is harmless: the sweep runs the step
        log.warning("could not enqueue run_due_step(%s); the sweep will run it", step_id, exc_info=True)


@transaction.atomic
def step_schedule(*, kind: str, subject: str, due_at: datetime, tender=None, lot=None) -> ScheduledStep:
    """Create or move the (kind, subject) step. Moving a done step re-arms it."""
    step, created = ScheduledStep.objects.select_for_update().get_or_create(
        kind=kind, subject=subject, defaults={"due_at": due_at, "tender": tender, "lot": lot}
    )
    if not created and (step.due_at != due_at or step.done_at is not None):
        step.due_at = due_at
        step.done_at = None
        step.next_attempt_at = None
        step.result = ""
        step.save(update_fields=["due_at", "done_at", "next_attempt_at", "result", "updated_at"])
    pk = step.pk
    transaction.on_commit(lambda: _enqueue_precise(pk, due_at))
    return step


def _due(at: datetime):
    return (
        ScheduledStep.objects.select_for_update(skip_locked=True)
        .filter(done_at__isnull=True, due_at__lte=at)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at))
    )


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** min(attempts - 1, 16)), MAX_BACKOFF)


def step_run_one(
    *, step_id: int | None = None, exclude: set[int] | frozenset[int] = frozenset()
) -> ScheduledStep | None:
    """Run one due step (the given one, or the earliest) in its own transaction; None if none is due."""
    with transaction.atomic():
        at = clock.now()
        qs = _due(at)
        if step_id is not None:
            qs = qs.filter(pk=step_id)
        if exclude:
            qs = qs.exclude(pk__in=exclude)
        step = qs.order_by("due_at", "pk").first()
        if step is None:
            return None
        step.attempts += 1
        try:
            with transaction.atomic():
                outcome = handler_for(step.kind)(step)
        except Exception as exc:
            log.exception("step %s (%s %s) failed", step.pk, step.kind, step.subject)
            step.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            step.next_attempt_at = at + _backoff(step.attempts)
            step.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
            return step
        if isinstance(outcome, Defer):
            step.next_attempt_at = outcome.until
            step.result = outcome.reason[:200]
            step.save(update_fields=["attempts", "next_attempt_at", "result", "updated_at"])
            return step
        step.done_at = at
        step.result = (outcome or "done")[:200]
        step.last_error = ""
        step.save(update_fields=["attempts", "done_at", "result", "last_error", "updated_at"])
        return step


def steps_run_due(*, limit: int = 200) -> list[ScheduledStep]:
    """Run due steps until none is left (or `limit`); returns what ran, each in its own transaction."""
    ran: list[ScheduledStep] = []
    seen: set[int] = set()
    while len(ran) < limit:
        step = step_run_one(exclude=seen)
        if step is None:
            break
        seen.add(step.pk)
        ran.append(step)
    return ran


def steps_enqueue_soon(*, within_seconds: float = SWEEP_INTERVAL_SECONDS) -> int:
    """Short-countdown tasks for steps due before the next sweep (precision, optional)."""
    at = clock.now()
    soon = ScheduledStep.objects.filter(
        done_at__isnull=True, due_at__gt=at, due_at__lte=at + timedelta(seconds=within_seconds)
    ).values_list("pk", "due_at")
    count = 0
    for pk, due_at in soon:
        _enqueue_precise(pk, due_at)
        count += 1
    return count
