"""Credit services: propose, decide, appeal, repair, market access, expert ratings (docs/credit.md).

Domain apps push facts in: `record_propose(...)` is called where the platform sees the fact
(a forfeited deposit, an enterprise that did not sign, a collusion signal a supervisor confirmed,
an expert who did not appear), with the audit events that prove it. A supervisor publishes or
rejects the proposal (`record_decide`). Domain apps ask `access_check(org, activity)` before
letting an organisation in; it raises `AccessBarred`, whose message names the record. A bar
is a time (`bar_until`): it ends by itself, no job runs.

Every change writes one `credit.*` audit event carrying the record's resulting state; the
decision trail (`CreditDecision`) points at those events and credit/replay.py rebuilds every
record from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organisation
from accounts.policy import authorize, has_role
from accounts.roles import Role
from audit.models import AuditEvent
from audit.services import actor_id, audit_record
from config.errors import DomainError, NotPermitted, RuleViolation, StateConflict
from credit import rules
from credit.models import (
    CreditDecision,
    CreditRecord,
    CreditRequest,
    ExpertRating,
    ExpertSuspension,
    RaterRole,
    RecordStatus,
    RequestKind,
    RequestStatus,
)
from credit.rules import RecordKind, Severity

ACTIVITIES = {
    "tender_registration": gettext_lazy("register for a tender"),
    "auction_bidding": gettext_lazy("buy in an auction"),
    "fixed_price_registration": gettext_lazy("register for a fixed-price comparison"),
    "fixed_price_drawing": gettext_lazy("be drawn in a fixed-price comparison"),
}


class AccessBarred(RuleViolation):
    """The organisation is barred from the market (市场清出) by a published record."""

    status = 403
    code = "credit_barred"

    def __init__(self, message: str, *, record: CreditRecord) -> None:
        super().__init__(message, code="credit_barred",
                         fields={"record": [record.number], "bar_until": [record.bar_until.isoformat()]})
        self.record = record


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _text(value: str, field: str, *, limit: int = 5000) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(_("%(field)s is required.") % {"field": field}, fields={field: ["required"]})
    if len(value) > limit:
        raise DomainError(_("%(field)s is too long (at most %(n)s characters).") % {"field": field, "n": limit},
                          fields={field: ["too_long"]})
    return value


def _evidence(seqs: Iterable[int]) -> list[dict]:
    wanted = sorted({int(s) for s in seqs})
    found = {e.seq: e for e in AuditEvent.objects.filter(seq__in=wanted)}
    missing = [s for s in wanted if s not in found]
    if missing:
        raise DomainError(_("No audit event with seq %(seq)s.") % {"seq": missing[0]}, fields={"evidence": ["unknown"]})
    return [{"seq": s, "action": found[s].action, "object": found[s].object, "hash": found[s].hash} for s in wanted]


def _state(record: CreditRecord) -> dict[str, Any]:
    """The record's state as every credit event carries it (credit/replay.py compares it)."""
    return {
        "number": record.number, "kind": record.kind, "severity": record.severity, "status": record.status,
        "organisation": record.organisation_id, "expert": record.expert_id, "subject_name": record.subject_name,
        "subject_uscc": record.subject_uscc, "source_ref": record.source_ref,
        "published_from": record.published_from, "published_until": record.published_until,
        "bar_until": record.bar_until, "bar_basis": record.bar_basis, "ended_at": record.ended_at,
    }


def _trail(record: CreditRecord, *, actor, action: str, at: datetime, reason: str = "",
           extra: dict | None = None) -> AuditEvent:
    event = audit_record(actor=actor, action=f"credit.{action}", obj=record,
                         data={"record": _state(record), "reason": reason, **(extra or {})})
    CreditDecision.objects.create(record=record, action=action, actor=actor_id(actor), at=at, reason=reason,
                                  audit_seq=event.seq)
    return event


# --- proposing and deciding --------------------------------------------------------------------


@transaction.atomic
def record_propose(*, kind: str, facts: str, organisation: Organisation | None = None, expert_id: int | None = None,
                   expert_name: str = "", evidence_seqs: Iterable[int] = (), source_ref: str = "",
                   proposed_by: Any = "system", at: datetime | None = None) -> CreditRecord:
    """Propose a record where the platform saw the fact; a supervisor decides (`record_decide`).

    Idempotent: the same (kind, subject, source_ref) returns the open or published record."""
    if kind not in RecordKind.values:
        raise DomainError(_("Unknown kind of record: %(kind)s.") % {"kind": kind}, fields={"kind": ["invalid"]})
    if (organisation is None) == (expert_id is None):
        raise DomainError(_("A record is about one organisation or one expert."), fields={"subject": ["invalid"]})
    facts = _text(facts, "facts")
    now = _now(at)
    subject = Q(organisation=organisation) if organisation is not None else Q(expert_id=expert_id)
    if source_ref:
        same = (CreditRecord.objects.select_for_update().filter(subject, kind=kind, source_ref=source_ref)
                .filter(status__in=[RecordStatus.PROPOSED, RecordStatus.PUBLISHED]).first())
        if same is not None:
            return same
    record = CreditRecord.objects.create(
        number=f"tmp-{uuid.uuid4().hex[:24]}", kind=kind, severity=rules.kind_rule(kind).severity,
        organisation=organisation, expert_id=expert_id,
        subject_name=organisation.name if organisation is not None else (expert_name or f"expert {expert_id}"),
        subject_uscc=organisation.uscc if organisation is not None else "", facts=facts, source_ref=source_ref[:120],
        evidence=_evidence(evidence_seqs), proposed_by=actor_id(proposed_by), proposed_at=now)
    record.number = f"XY{timezone.localtime(now):%Y}{record.pk:06d}"
    record.save(update_fields=["number"])
    _trail(record, actor=proposed_by, action="record_proposed", at=now,
           extra={"facts": facts, "evidence": record.evidence})
    return record


def _bar(record: CreditRecord, now: datetime) -> tuple[datetime | None, str]:
    days = rules.bar_days(record.severity)
    if days > 0:
        return now + rules.days(days), f"severity:{record.severity}"
    window = now - rules.days(rules.REPEAT_WINDOW_DAYS)
    others = counting(CreditRecord.objects.filter(published_from__gte=window), now)
    others = (others.filter(organisation_id=record.organisation_id) if record.organisation_id
              else others.filter(expert_id=record.expert_id))
    if others.exclude(pk=record.pk).exists():
        return now + rules.days(rules.REPEAT_BAR_DAYS), "repeated"
    return None, ""


@transaction.atomic
def record_decide(*, actor, record: CreditRecord, publish: bool, reason: str, severity: str | None = None,
                  at: datetime | None = None) -> CreditRecord:
    """A supervisor publishes (with the kind's publication period and the severity's bar) or rejects."""
    authorize(actor, "credit.decide", record)
    reason = _text(reason, "reason")
    record = CreditRecord.objects.select_for_update().get(pk=record.pk)
    if record.status != RecordStatus.PROPOSED:
        raise StateConflict(_("Record %(n)s is already decided (%(s)s).")
                            % {"n": record.number, "s": record.get_status_display()}, code="decided")
    if severity is not None:
        if severity not in Severity.values:
            raise DomainError(_("Unknown severity."), fields={"severity": ["invalid"]})
        record.severity = severity
    now = _now(at)
    record.decided_by, record.decided_at, record.decision_reason = actor, now, reason
    if publish:
        record.status = RecordStatus.PUBLISHED
        record.published_from = now
        record.published_until = now + rules.days(rules.kind_rule(record.kind).publish_days)
        record.bar_until, record.bar_basis = _bar(record, now)
    else:
        record.status = RecordStatus.REJECTED
    record.save()
    _trail(record, actor=actor, action="record_published" if publish else "record_rejected", at=now, reason=reason)
    if publish and record.expert_id is not None and record.bar_until is not None:
        _suspend(record.expert_id, now, record.bar_until, "credit_record", {"record": record.number})
    return record


# --- appeal and repair -------------------------------------------------------------------------------


@transaction.atomic
def request_submit(*, actor, record: CreditRecord, kind: str, text: str, at: datetime | None = None) -> CreditRequest:
    """The organisation the record is about appeals (within APPEAL_DAYS of publication) or asks for repair
    (信用修复, once REPAIR_AFTER_DAYS of its publication have passed)."""
    authorize(actor, "credit.request", record)
    text = _text(text, "text")
    if kind not in RequestKind.values:
        raise DomainError(_("Unknown kind of request."), fields={"kind": ["invalid"]})
    record = CreditRecord.objects.select_for_update().get(pk=record.pk)
    now = _now(at)
    if record.status != RecordStatus.PUBLISHED:
        raise StateConflict(_("Record %(n)s is not published.") % {"n": record.number}, code="not_published")
    if kind == RequestKind.APPEAL and now > record.published_from + rules.days(rules.APPEAL_DAYS):
        raise RuleViolation(_("An appeal is made within %(d)s days of publication (%(src)s).")
                            % {"d": rules.APPEAL_DAYS, "src": rules.POLICY_SOURCE}, code="appeal_late")
    if kind == RequestKind.REPAIR:
        earliest = record.published_from + rules.days(rules.REPAIR_AFTER_DAYS[Severity(record.severity)])
        if now < earliest:
            raise RuleViolation(_("Repair of a %(sev)s record may be asked from %(when)s (%(src)s).")
                                % {"sev": record.get_severity_display(), "when": timezone.localtime(earliest)
                                   .strftime("%Y-%m-%d %H:%M"), "src": rules.POLICY_SOURCE}, code="repair_early")
    if record.requests.filter(kind=kind, status=RequestStatus.OPEN).exists():
        raise StateConflict(_("A request of this kind is already open."), code="request_open")
    request = CreditRequest.objects.create(record=record, kind=kind, text=text, submitted_by=actor, submitted_at=now)
    _trail(record, actor=actor, action=f"{kind}_submitted", at=now, reason=text[:500],
           extra={"request": request.pk})
    return request


@transaction.atomic
def request_decide(*, actor, request: CreditRequest, grant: bool, reason: str,
                   at: datetime | None = None) -> CreditRequest:
    """A supervisor grants (appeal: the record is revoked; repair: it stops counting and leaves the
    publication) or refuses the request."""
    authorize(actor, "credit.decide", request.record)
    reason = _text(reason, "reason")
    request = CreditRequest.objects.select_for_update().get(pk=request.pk)
    record = CreditRecord.objects.select_for_update().get(pk=request.record_id)
    if request.status != RequestStatus.OPEN:
        raise StateConflict(_("This request is already decided."), code="decided")
    now = _now(at)
    request.status = RequestStatus.GRANTED if grant else RequestStatus.REFUSED
    request.decided_by, request.decided_at, request.decision_reason = actor, now, reason
    request.save()
    if grant and record.status == RecordStatus.PUBLISHED:
        record.status = RecordStatus.REVOKED if request.kind == RequestKind.APPEAL else RecordStatus.REPAIRED
        record.ended_at = now
        record.save(update_fields=["status", "ended_at"])
        if record.expert_id is not None:
            ExpertSuspension.objects.filter(expert_id=record.expert_id, basis__record=record.number,
                                            ends_at__gt=now).update(ends_at=now)
    _trail(record, actor=actor, action=f"{request.kind}_{'granted' if grant else 'refused'}", at=now, reason=reason,
           extra={"request": request.pk})
    return request


# --- counting records and market access ---------------------------------------------------------------


def _live_at(at: datetime) -> Q:
    """Published by `at` and not ended by then: a repaired record counted until its repair; a revoked
    (appeal granted) record never counted, it was wrong."""
    return (Q(status__in=[RecordStatus.PUBLISHED, RecordStatus.REPAIRED], published_from__lte=at)
            & (Q(ended_at__isnull=True) | Q(ended_at__gt=at)))


def counting(qs: QuerySet[CreditRecord], at: datetime) -> QuerySet[CreditRecord]:
    """Records that count at `at`: published, in their publication period, not revoked, not yet repaired."""
    return qs.filter(_live_at(at), published_until__gt=at)


def bars_at(org_ids: Iterable[int], at: datetime | None = None) -> dict[int, CreditRecord]:
    """For each barred organisation among `org_ids`, the record that bars it longest (one query)."""
    now = _now(at)
    out: dict[int, CreditRecord] = {}
    for record in (CreditRecord.objects.filter(_live_at(now), organisation_id__in=list(org_ids), bar_until__gt=now)
                   .order_by("organisation_id", "-bar_until", "pk")):
        out.setdefault(record.organisation_id, record)
    return out


def refusal_message(record: CreditRecord, activity: str) -> str:
    return (_("%(org)s may not %(activity)s until %(until)s: credit record %(number)s (%(kind)s, %(severity)s), "
              "published %(published)s. Query it at /credit/records/%(number)s/ (%(src)s).")
            % {"org": record.subject_name, "activity": ACTIVITIES.get(activity, activity),
               "until": timezone.localtime(record.bar_until).strftime("%Y-%m-%d %H:%M"), "number": record.number,
               "kind": record.get_kind_display(), "severity": record.get_severity_display(),
               "published": timezone.localtime(record.published_from).strftime("%Y-%m-%d"),
               "src": rules.kind_rule(record.kind).source})


def access_check(org: Organisation | int, activity: str, *, at: datetime | None = None) -> None:
    """Raise `AccessBarred` (403, code "credit_barred", naming the record) if `org` is barred at `at`.

    `activity` is one of ACTIVITIES: "tender_registration" (trading registration), "auction_bidding"
    (auctions: call it before accepting a buyer's registration and each bid), "fixed_price_registration"
    and "fixed_price_drawing" (smallworks). Pass the domain's clock (`trading.clock.now()`) as `at`."""
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")
    org_id = org if isinstance(org, int) else org.pk
    record = bars_at([org_id], at).get(org_id)
    if record is not None:
        raise AccessBarred(refusal_message(record, activity), record=record)


def credit_score(org_id: int, *, at: datetime, full_marks: int) -> dict[str, Any]:
    """The optional credit item of comprehensive scoring: full marks minus SCORE_DEDUCTION per record
    counting at `at` (the bid deadline), never below 0; with the records it used."""
    records = list(counting(CreditRecord.objects.filter(organisation_id=org_id), at).order_by("pk"))
    deduction = sum(rules.SCORE_DEDUCTION[Severity(r.severity)] for r in records)
    return {"score": max(0, full_marks - deduction), "full_marks": full_marks,
            "records": [{"number": r.number, "severity": r.severity} for r in records]}


# --- experts: ratings and suspensions ---------------------------------------------------------------


def _suspend(expert_id: int, start: datetime, end: datetime, reason: str, basis: dict) -> ExpertSuspension:
    suspension = ExpertSuspension.objects.create(expert_id=expert_id, starts_at=start, ends_at=end, reason=reason,
                                                 basis=basis)
    audit_record(actor="system", action="credit.expert_suspended", obj=suspension,
                 data={"expert": expert_id, "starts_at": start, "ends_at": end, "reason": reason, "basis": basis})
    return suspension


@transaction.atomic
def expert_rate(*, actor, expert_id: int, subject_ref: str, score: int, comment: str = "",
                at: datetime | None = None) -> ExpertRating:
    """Rate an expert's work in one evaluation (the agent or a supervisor, once each). A poor score by a
    supervisor, or POOR_REPEAT poor scores within POOR_WINDOW_DAYS, suspends the expert for SUSPEND_DAYS.

    The caller (the evaluation) checks that the actor belongs to that evaluation."""
    if has_role(actor, Role.SUPERVISOR):
        role = RaterRole.SUPERVISOR
    elif has_role(actor, Role.AGENT):
        role = RaterRole.AGENT
    else:
        raise NotPermitted(_("Only the tender agent or a supervisor rates experts."), code="permission_denied")
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise DomainError(_("A score is an integer from 1 to 5."), fields={"score": ["invalid"]})
    now = _now(at)
    try:
        with transaction.atomic():
            rating = ExpertRating.objects.create(expert_id=expert_id, subject_ref=subject_ref[:80], rater=actor,
                                                 rater_role=role, score=score, comment=(comment or "")[:2000],
                                                 rated_at=now)
    except IntegrityError:
        raise StateConflict(_("This expert is already rated for this evaluation by the %(role)s.")
                            % {"role": role.label}, code="already_rated") from None
    audit_record(actor=actor, action="credit.expert_rated", obj=rating,
                 data={"expert": expert_id, "subject": subject_ref, "role": role, "score": score})
    if score <= rules.POOR_SCORE:
        window = now - rules.days(rules.POOR_WINDOW_DAYS)
        poor = list(ExpertRating.objects.filter(expert_id=expert_id, score__lte=rules.POOR_SCORE, rated_at__gte=window)
                    .values_list("pk", flat=True))
        reason = ("poor_rating" if role == RaterRole.SUPERVISOR
                  else "repeated_poor_ratings" if len(poor) >= rules.POOR_REPEAT else "")
        active = ExpertSuspension.objects.filter(expert_id=expert_id, starts_at__lte=now, ends_at__gt=now).exists()
        if reason and not active:
            _suspend(expert_id, now, now + rules.days(rules.SUSPEND_DAYS), reason, {"ratings": sorted(poor)})
    return rating


def suspended_expert_ids(at: datetime, *, only: Iterable[int] | None = None) -> QuerySet:
    """A values_list queryset of the expert ids suspended at `at` (for the draw's eligibility)."""
    qs = ExpertSuspension.objects.filter(starts_at__lte=at, ends_at__gt=at)
    if only is not None:
        qs = qs.filter(expert_id__in=list(only))
    return qs.order_by().values_list("expert_id")
