"""Handlers of scheduled steps (due times swept by trading/services/scheduling.py).

Register a handler for a kind of step:

    from trading.steps import step_handler, Defer

    @step_handler("opening_decryption_end")
    def decryption_end(step):
        ...            # idempotent; lock the tender first (trading.services.tender_status.lock_tender)
        return "done"  # a short result text, or Defer(until, reason) to run again later

and schedule it with `trading.services.scheduling.step_schedule(kind=..., subject=..., due_at=...)`.
The handler runs inside the sweep's transaction (a savepoint); the sweep marks
the step done in the same transaction, or, if the handler raises, records the
error and retries with back-off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from audit.services import audit_record
from trading import clock
from trading.models import (
    Objection,
    ObjectionStatus,
    Registration,
    RegistrationStatus,
    ScheduledStep,
    Tender,
    TenderStatus,
)
from trading.rules import room_acceleration
from trading.services.opening_hook import opening_start
from trading.services.tender_status import lock_tender, tender_transition

StepHandler = Callable[[ScheduledStep], "str | Defer | None"]
_HANDLERS: dict[str, StepHandler] = {}


@dataclass(frozen=True)
class Defer:
    """Returned by a handler that cannot act yet: the step runs again at `until`."""

    until: datetime
    reason: str = "deferred"


def step_handler(kind: str) -> Callable[[StepHandler], StepHandler]:
    def register(fn: StepHandler) -> StepHandler:
        if kind in _HANDLERS and _HANDLERS[kind] is not fn:
            raise RuntimeError(f"step handler {kind!r} registered twice")
        _HANDLERS[kind] = fn
        return fn

    return register


def handler_for(kind: str) -> StepHandler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise LookupError(f"no handler registered for step kind {kind!r}") from None


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


def _retry_soon() -> datetime:
    return clock.now() + max(timedelta(seconds=60) / room_acceleration(), timedelta(seconds=1))


def _subject_tender(step: ScheduledStep) -> Tender:
    return lock_tender(Tender.objects.get(pk=step.tender_id))


# --- the handlers of this app -------------------------------------------------------------

BID_DEADLINE = "bid_deadline"
PUBLICITY_END = "publicity_end"
OBJECTION_REPLY_DUE = "objection_reply_due"


@step_handler(BID_DEADLINE)
def bid_deadline(step: ScheduledStep):
    """The bid deadline = opening time: close registration and submissions, then start the opening."""
    tender = _subject_tender(step)
    now = clock.deadline_now()
    if tender.status == TenderStatus.SUSPENDED and tender.suspended_from == TenderStatus.PUBLISHED:
        # 实施条例 Art 22: activity is suspended while an objection is pending; the deadline waits.
        return Defer(_retry_soon(), "tender suspended: objection pending")
    if tender.status != TenderStatus.PUBLISHED:
        return f"skipped: tender is {tender.status}"
    if now < tender.bid_deadline:  # the deadline was moved later: wait for it
        return Defer(tender.bid_deadline, "deadline moved")
    registrations = Registration.objects.filter(tender=tender, status=RegistrationStatus.REGISTERED).count()
    # The transition publishes the salt and every sealed event's opening (audit/sealed.py).
    tender_transition(
        actor="system",
        tender=tender,
        to=TenderStatus.BIDDING_CLOSED,
        reason="bid deadline",
        data={"bid_deadline": tender.bid_deadline, "registrations": registrations},
    )
    starters = opening_start(tender=tender)
    return "closed" + (f"; opening started by {len(starters)} hook(s)" if starters else "; no opening hook")


@step_handler(PUBLICITY_END)
def publicity_end(step: ScheduledStep):
    """The candidate publicity period is over: the award may be published (实施条例 Art 54)."""
    tender = _subject_tender(step)
    in_publicity = tender.status == TenderStatus.PUBLICITY or (
        tender.status == TenderStatus.SUSPENDED and tender.suspended_from == TenderStatus.PUBLICITY
    )
    if not in_publicity or tender.publicity_ended_at is not None:
        return f"skipped: tender is {tender.status}"
    if tender.publicity_ends_at and clock.now() < tender.publicity_ends_at:
        return Defer(tender.publicity_ends_at, "publicity period moved")
    tender.publicity_ended_at = clock.now()
    tender.save(update_fields=["publicity_ended_at", "updated_at"])
    audit_record(
        actor="system",
        action="tender.publicity_ended",
        obj=tender,
        data={"tender": tender.pk, "publicity_ends_at": tender.publicity_ends_at},
    )
    return "publicity ended"


@step_handler(OBJECTION_REPLY_DUE)
def objection_reply_due(step: ScheduledStep):
    """Record, once, that an objection's reply is overdue (a red warning for supervisors)."""
    _subject_tender(step)
    objection = Objection.objects.get(pk=int(step.subject.rsplit(":", 1)[1]))
    if objection.status != ObjectionStatus.OPEN:
        return "skipped: replied"
    audit_record(
        actor="system",
        action="objection.reply_overdue",
        obj=objection,
        data={"tender": objection.tender_id, "objection": objection.pk, "reply_due_at": objection.reply_due_at},
    )
    return "overdue recorded"
