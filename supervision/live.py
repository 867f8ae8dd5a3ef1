"""Live supervision (电子监察): active opening rooms, draws in progress and red/yellow warnings.

Selectors compute the overview from due times in the database (docs/audit.md, "Live
supervision"); `supervision_refresh` (beat task `audit.supervision_refresh`, every ~30 s)
publishes what changed to the persisted stream "supervision" (realtime.streams), which the
dashboard consumer (bidding_ui/consumers/supervision.py) snapshots and tails.

Warning levels (all periods divided by the sandbox acceleration, trading.rules.acceleration):

- objection to the documents, open (Objection.reply_due_at): yellow when the reply is due
  within `SUPERVISION_YELLOW_DAYS` (default 1 day), red when overdue;
- scheduled step not done (ScheduledStep), grace `SUPERVISION_STEP_GRACE_SECONDS` (default
  300 s): a failing step (last error set, retried with back-off) is yellow within the grace after
  its due time and red beyond it; a step deferred by its handler to a later time (waiting for a
  condition, e.g. a suspended tender; the reason is shown) is yellow once due for longer than the
  grace; any other step left pending longer than the grace after its due time is red (the sweep
  is not running it);
- candidate publicity objection reply, complaint acceptance and decision, contract after the
  award (trading.evaluation): yellow when due within `SUPERVISION_YELLOW_DAYS`, red when overdue;
- expert draw warning (experts.DrawWarning, not acknowledged): red for a pool exhausted,
  yellow for a seat vacated after the draw was closed;
- deposit refund (trading.deposits RefundInstruction, pending or sent to the bank): yellow when
  due within `SUPERVISION_YELLOW_DAYS`, red when overdue; a refund the bank reported as failed
  (DepositWarning "refund_failed", not acknowledged): red;
- refused audit checkpoints (audit.CheckpointRefusal): red for `AUDIT_REFUSAL_DAYS`;
- witnesses (audit.witnessing): a refusal is red, an unreachable witness yellow;
- worker and beat health (audit.health, source "workers"): red when no Celery worker has
  heartbeated within `WORKER_STALE_SECONDS`, or a worker is alive but beat's heartbeat stopped.

Each source is registered with `@warning_source(name)`; a source that raises is logged and
skipped, so one broken source does not blind the dashboard.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from audit.canonical import dumps, normalize
from audit.health import health_status, heartbeat_interval, stale_after
from audit.models import CheckpointRefusal
from audit.witnessing import witness_states
from experts.models import IN_PROGRESS, AssignmentStatus, Draw, DrawWarning, WarningKind
from realtime.models import Stream, StreamEvent
from realtime.streams import stream_get, stream_publish
from trading import clock
from trading.evaluation.models import (
    Award,
    AwardStatus,
    Complaint,
    ComplaintStatus,
    PublicityObjection,
    PublicityObjectionStatus,
)
from trading.models import (
    DepositWarning,
    Objection,
    ObjectionStatus,
    Opening,
    RefundInstruction,
    ScheduledStep,
    Tender,
    TenderStatus,
)
from trading.models.deposit import OPEN_REFUND_STATUSES
from trading.rules import acceleration

logger = logging.getLogger(__name__)

STREAM_KEY = "supervision"
AUDIENCE = {"roles": ["supervisor"]}
RED, YELLOW = "red", "yellow"
KINDS = ("rooms", "draws", "warnings")


# --- thresholds -----------------------------------------------------------------------------------

def yellow_window() -> timedelta:
    """How long before a reply or refund is due it turns yellow (default 1 day)."""
    return timedelta(days=float(getattr(settings, "SUPERVISION_YELLOW_DAYS", 1))) / acceleration()


def step_grace() -> timedelta:
    """How long a due step may stay pending before it is overdue (default 5 minutes): the
    sweep runs every 5 s, so only a stuck sweep or a failing handler gets that far."""
    return timedelta(seconds=float(getattr(settings, "SUPERVISION_STEP_GRACE_SECONDS", 300))) / acceleration()


def room_lookahead() -> timedelta:
    """A published tender whose deadline is this close is listed as an upcoming opening room."""
    return timedelta(hours=float(getattr(settings, "SUPERVISION_ROOM_LOOKAHEAD_HOURS", 1))) / acceleration()


def room_lookback() -> timedelta:
    """A tender that closed bidding this recently without an opening yet is still listed."""
    return timedelta(days=float(getattr(settings, "SUPERVISION_ROOM_LOOKBACK_DAYS", 1))) / acceleration()


# --- warnings ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SupervisionWarning:
    key: str  # stable: "<source>:<id>"
    level: str  # "red" | "yellow"
    kind: str  # objection_reply | step_overdue | step_failing | step_waiting | deposit_refund | expert_pool | …
    tender: int | None
    tender_code: str
    subject: str  # what it is about ("trading.objection:12")
    due_at: datetime | None
    detail: str = ""  # technical detail (step kind and reason, draw line …), not translated

    def as_dict(self) -> dict[str, Any]:
        return normalize({"key": self.key, "level": self.level, "kind": self.kind, "tender": self.tender,
                          "tender_code": self.tender_code, "subject": self.subject, "due_at": self.due_at,
                          "detail": self.detail})


WarningSource = Callable[[datetime], Iterable[SupervisionWarning]]
_SOURCES: dict[str, WarningSource] = {}


def warning_source(name: str) -> Callable[[WarningSource], WarningSource]:
    def register(fn: WarningSource) -> WarningSource:
        _SOURCES[name] = fn
        return fn

    return register


def due_level(due_at: datetime, now: datetime, window: timedelta) -> str | None:
    """Red when `now` is after `due_at`, yellow when `due_at` is at most `window` away, else None."""
    if now > due_at:
        return RED
    if due_at - now <= window:
        return YELLOW
    return None


@warning_source("objections")
def objection_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    limit = now + yellow_window()
    rows = (Objection.objects.filter(status=ObjectionStatus.OPEN, reply_due_at__lte=limit)
            .select_related("tender").order_by("reply_due_at", "pk"))
    for objection in rows:
        level = due_level(objection.reply_due_at, now, yellow_window())
        if level:
            yield SupervisionWarning(
                key=f"objection:{objection.pk}", level=level, kind="objection_reply", tender=objection.tender_id,
                tender_code=objection.tender.code, subject=f"trading.objection:{objection.pk}",
                due_at=objection.reply_due_at)


def step_level(step: ScheduledStep, now: datetime, grace: timedelta) -> tuple[str, str] | None:
    """(level, kind) of a pending step's warning, or None (see the module docstring).

    A failing step (last_error) is yellow within the grace after its due time, red beyond.
    A step its handler deferred to a later time (next_attempt_at ahead, no error) is waiting
    for a condition: yellow once its due time is more than the grace ago. Any other due step
    is red once it has waited more than the grace past its due (or next attempt) time: the
    sweep is not running it."""
    if step.done_at is not None or step.due_at > now:
        return None
    late = now - step.due_at
    if step.last_error:
        return (YELLOW, "step_failing") if late <= grace else (RED, "step_overdue")
    if step.next_attempt_at is not None and step.next_attempt_at > now:
        return (YELLOW, "step_waiting") if late > grace else None
    since = now - max(step.due_at, step.next_attempt_at or step.due_at)
    return (RED, "step_overdue") if since > grace else None


@warning_source("steps")
def step_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    grace = step_grace()
    rows = (ScheduledStep.objects.filter(done_at__isnull=True, due_at__lte=now)
            .select_related("tender").order_by("due_at", "pk"))
    for step in rows:
        found = step_level(step, now, grace)
        if found is None:
            continue
        level, kind = found
        reason = step.last_error or step.result or ""
        yield SupervisionWarning(
            key=f"step:{step.pk}", level=level, kind=kind, tender=step.tender_id,
            tender_code=step.tender.code if step.tender else "", subject=step.subject, due_at=step.due_at,
            detail=f"{step.kind}: {reason}"[:300] if reason else step.kind)


@warning_source("deposit_refunds")
def deposit_refund_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    """Open refund instructions by their legal due time, and refunds the bank reported as failed
    (trading/deposits/)."""
    window = yellow_window()
    rows = (RefundInstruction.objects.filter(status__in=OPEN_REFUND_STATUSES, due_at__lte=now + window)
            .select_related("tender").order_by("due_at", "pk"))
    for instruction in rows:
        level = due_level(instruction.due_at, now, window)
        if level:
            yield SupervisionWarning(
                key=f"refund:{instruction.pk}", level=level, kind="deposit_refund", tender=instruction.tender_id,
                tender_code=instruction.tender.code if instruction.tender_id else "",
                subject=f"trading.refundinstruction:{instruction.pk}", due_at=instruction.due_at,
                detail=f"{instruction.reference} {instruction.total} CNY, {instruction.status} "
                       f"({instruction.legal_source})"[:300])
    failed = (DepositWarning.objects.filter(acknowledged_at__isnull=True, kind="refund_failed")
              .select_related("tender").order_by("raised_at", "pk"))
    for warning in failed:
        yield SupervisionWarning(
            key=f"deposit_warning:{warning.pk}", level=YELLOW if warning.level == YELLOW else RED,
            kind="deposit_refund_failed", tender=warning.tender_id,
            tender_code=warning.tender.code if warning.tender_id else "",
            subject=f"trading.refundinstruction:{warning.instruction_id}", due_at=warning.raised_at,
            detail=warning.message[:300])


@warning_source("evaluation")
def evaluation_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    """Replies to objections during the candidate publicity (实施条例 Art 54), acceptance and decision
    of complaints (Art 61) and the contract after the award (招标投标法 Art 46), by their due times."""
    window = yellow_window()
    limit = now + window
    due: list[tuple[str, str, Any, str, datetime]] = []
    open_objections = PublicityObjection.objects.filter(
        status=PublicityObjectionStatus.OPEN, reply_due_at__lte=limit).select_related("tender")
    for o in open_objections:
        due.append((f"publicity_objection:{o.pk}", "publicity_objection_reply", o.tender,
                    f"evaluation.publicityobjection:{o.pk}", o.reply_due_at))
    filed, accepted = ComplaintStatus.FILED, ComplaintStatus.ACCEPTED
    for c in Complaint.objects.filter(status__in=(filed, accepted)).select_related("tender"):
        if c.status == filed and c.accept_due_at <= limit:
            due.append((f"complaint_acceptance:{c.pk}", "complaint_acceptance", c.tender,
                        f"evaluation.complaint:{c.pk}", c.accept_due_at))
        elif c.status == accepted and c.decide_due_at is not None and c.decide_due_at <= limit:
            due.append((f"complaint_decision:{c.pk}", "complaint_decision", c.tender,
                        f"evaluation.complaint:{c.pk}", c.decide_due_at))
    awards = Award.objects.filter(status=AwardStatus.ACTIVE, contract_due_at__lte=limit).select_related(
        "tender")
    for a in awards:
        due.append((f"contract:{a.pk}", "contract_signing", a.tender, f"evaluation.award:{a.pk}", a.contract_due_at))
    for key, kind, tender, subject, due_at in due:
        level = due_level(due_at, now, window)
        if level:
            yield SupervisionWarning(key=key, level=level, kind=kind, tender=tender.pk, tender_code=tender.code,
                                     subject=subject, due_at=due_at)


@warning_source("expert_draws")
def expert_draw_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    rows = (DrawWarning.objects.filter(acknowledged_at__isnull=True)
            .select_related("draw__tender", "line").order_by("created_at", "pk"))
    for warning in rows:
        exhausted = warning.kind == WarningKind.POOL_EXHAUSTED
        line = f"line {warning.line.index}: " if warning.line_id else ""
        yield SupervisionWarning(
            key=f"draw_warning:{warning.pk}", level=RED if exhausted else YELLOW,
            kind="expert_pool_exhausted" if exhausted else "expert_draw_closed",
            tender=warning.draw.tender_id, tender_code=warning.draw.tender.code,
            subject=f"experts.draw:{warning.draw_id}", due_at=warning.created_at,
            detail=(line + warning.message)[:300])


# Refused audit checkpoints (audit.checkpoints.checkpoint_create): red for AUDIT_REFUSAL_DAYS.
@warning_source("audit_signing")
def audit_signing_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    since = now - timedelta(days=getattr(settings, "AUDIT_REFUSAL_DAYS", 30))
    for refusal in CheckpointRefusal.objects.filter(at__gte=since)[:20]:
        yield SupervisionWarning(
            key=f"audit_refusal:{refusal.pk}", level=RED, kind="audit_checkpoint_refused", tender=None,
            tender_code="", subject=f"audit.log:{refusal.log_size}", due_at=refusal.at,
            detail=refusal.problem[:300])


@warning_source("witnesses")
def witness_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    """A witness whose latest answer refused a checkpoint: red (it saw another history, or our
    signature or proof failed); unreachable: yellow (audit/witnessing.py, docs/witness.md)."""
    for state in witness_states():
        last, name = state["last"], state["witness"].verifier.name
        if last is None or last.outcome == "cosigned":
            continue
        refused = last.outcome == "refused"
        yield SupervisionWarning(
            key=f"witness:{name}:{state['witness'].key_id}", level=RED if refused else YELLOW,
            kind="witness_refused" if refused else "witness_unreachable", tender=None, tender_code="",
            subject=f"audit.checkpoint:{last.tree_size}", due_at=last.at,
            detail=f"{name} (old {last.old_size}, HTTP {last.status or '-'}): {last.detail.strip()}"[:300])


def supervision_warnings(*, now: datetime | None = None) -> list[SupervisionWarning]:
    """Every current warning, red first, then by due time."""
    now = now or clock.now()
    found: list[SupervisionWarning] = []
    for name, source in _SOURCES.items():
        try:
            found.extend(source(now))
        except Exception:  # one broken source must not blind the whole dashboard
            logger.exception("supervision warning source %r failed", name)
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(found, key=lambda w: (w.level != RED, w.due_at or far, w.key))


# --- rooms and draws ----------------------------------------------------------------------------------

def opening_rooms(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Tenders whose opening is on or near: status opening; bidding closed within the look-back;
    published with the deadline within the look-ahead."""
    now = now or clock.now()
    tenders = (Tender.objects.filter(
        Q(status=TenderStatus.OPENING)
        | Q(status=TenderStatus.BIDDING_CLOSED, bid_deadline__gte=now - room_lookback())
        | Q(status=TenderStatus.PUBLISHED, bid_deadline__lte=now + room_lookahead(), bid_deadline__gte=now))
        .order_by("bid_deadline", "pk"))
    phases = {o.tender_id: o for o in Opening.objects.filter(tender__in=[t.pk for t in tenders])}
    rooms = []
    for tender in tenders:
        opening = phases.get(tender.pk)
        rooms.append(normalize({
            "tender": tender.pk, "code": tender.code, "title": tender.title, "status": tender.status,
            "bid_deadline": tender.bid_deadline, "stream": f"opening:tender:{tender.pk}",
            "phase": opening.state if opening else None,
            "phase_ends_at": opening.phase_ends_at if opening else None,
        }))
    return rooms


def draws_in_progress() -> list[dict[str, Any]]:
    S = AssignmentStatus
    rows = (Draw.objects.filter(status__in=IN_PROGRESS).select_related("tender", "lot")
            .annotate(accepted=Count("assignments", filter=Q(assignments__status=S.ACCEPTED)),
                      waiting=Count("assignments", filter=Q(assignments__status=S.NOTIFIED)))
            .order_by("evaluation_start", "pk"))
    return [normalize({
        "draw": d.pk, "tender": d.tender_id, "code": d.tender.code, "lot": d.lot.number, "status": d.status,
        "seats": d.expert_seats, "accepted": d.accepted, "waiting": d.waiting,
        "evaluation_start": d.evaluation_start}) for d in rows]


def supervision_overview(*, now: datetime | None = None) -> dict[str, Any]:
    """The dashboard's state: rooms, draws, warnings and counts (JSON data)."""
    now = now or clock.now()
    warnings = [w.as_dict() for w in supervision_warnings(now=now)]
    return {
        "rooms": opening_rooms(now=now),
        "draws": draws_in_progress(),
        "warnings": warnings,
        "counts": warning_counts(warnings),
        "computed_at": normalize(now),
    }


def warning_counts(warnings: list[dict]) -> dict[str, int]:
    return {RED: sum(1 for w in warnings if w["level"] == RED),
            YELLOW: sum(1 for w in warnings if w["level"] == YELLOW)}


def digest(items: list[dict]) -> str:
    return hashlib.sha256(dumps(normalize(items))).hexdigest()


# --- publishing changes ------------------------------------------------------------------------------

def _last_payload(kind: str) -> dict | None:
    return (StreamEvent.objects.filter(stream__key=STREAM_KEY, kind=kind).order_by("-event_id")
            .values_list("payload", flat=True).first())


@transaction.atomic
def supervision_refresh(*, now: datetime | None = None) -> list[str]:
    """Recompute the overview and publish each part (rooms, draws, warnings) that changed since
    it was last published. Returns the kinds published. Runs under the stream's row lock, so
    concurrent runs publish a change once."""
    stream_get(STREAM_KEY)
    Stream.objects.select_for_update().get(key=STREAM_KEY)
    overview = supervision_overview(now=now)
    published = []
    for kind in KINDS:
        items = overview[kind]
        new_digest = digest(items)
        last = _last_payload(kind)
        old_digest = last.get("digest") if last else digest([])
        if new_digest == old_digest:
            continue
        payload: dict[str, Any] = {"items": items, "digest": new_digest, "computed_at": overview["computed_at"]}
        if kind == "warnings":
            before = {w["key"]: w["level"] for w in (last or {}).get("items", ())}
            after = {w["key"]: w["level"] for w in items}
            payload["counts"] = overview["counts"]
            payload["added"] = sorted(k for k in after if k not in before)
            payload["removed"] = sorted(k for k in before if k not in after)
            payload["escalated"] = sorted(k for k in after if before.get(k) == YELLOW and after[k] == RED)
        stream_publish(key=STREAM_KEY, kind=kind, payload=payload, audience=AUDIENCE)
        published.append(kind)
    return published


# --- worker and beat health (audit/health.py; docs/operations.md, "Faults and recovery") -----------

@warning_source("workers")
def worker_health_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    """Red when no worker has heartbeated for WORKER_STALE_SECONDS (`worker_down`), or a worker
    is alive but beat's heartbeat stopped (`beat_down`). Measured with the server clock
    (heartbeats are wall-clock facts), not the sandbox clock, so `now` is not used."""
    return list(health_warnings())


def health_warnings(*, now: datetime | None = None) -> Iterable[SupervisionWarning]:
    now = now or timezone.now()
    status = health_status(now=now)
    if status["worker_ok"] is False:
        age = int((now - status["worker_last"]).total_seconds())
        yield SupervisionWarning(
            key="health:worker", level=RED, kind="worker_down", tender=None, tender_code="",
            subject="celery:worker", due_at=status["worker_last"] + stale_after(),
            detail=f"no Celery worker has reported for {age} s: scheduled steps and notifications are not running")
    elif status["worker_ok"] and status["beat_ok"] is False:
        age = int((now - status["beat_last"]).total_seconds())
        yield SupervisionWarning(
            key="health:beat", level=RED, kind="beat_down", tender=None, tender_code="",
            subject="celery:beat", due_at=status["beat_last"] + stale_after(),
            detail=f"no beat heartbeat has reached a worker for {age} s: beat or the broker is down")


_last_check = 0.0
_check_lock = threading.Lock()


def supervision_refresh_if_workers_down(*, min_interval: float | None = None) -> list[str]:
    """Called by the dashboard consumer (web): when no worker is alive, publish the dashboard's
    changes (its worker-health warning) from here. At most once per `min_interval` per process."""
    global _last_check
    interval = heartbeat_interval() if min_interval is None else min_interval
    with _check_lock:
        if time.monotonic() - _last_check < interval:
            return []
        _last_check = time.monotonic()
    status = health_status()
    if status["worker_ok"] is not False and status["beat_ok"] is not False:
        return []
    return supervision_refresh()
