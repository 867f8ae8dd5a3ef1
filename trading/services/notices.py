"""Notices (公告): immutable published versions, each an audit event carrying its SHA-256.

- the tender notice is published by `tender_publish`;
- amendments and clarifications by `amendment_publish`, which enforces the
  15-day rule (招标投标法 Art 23; 实施条例 Art 21) and moves the deadline;
- candidate publicity, award result, failure and termination by
  `result_notice_publish`, each with its status change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.receipts import receipt_issue
from audit.services import audit_record
from audit.witnessing import anchor, anchor_section
from config.errors import DomainError, RuleViolation, StateConflict
from trading import clock
from trading.models import RESULT_KINDS, Notice, NoticeKind, ObjectionStatus, Tender, TenderStatus
from trading.phases import result_notice_kinds
from trading.rules import AWARD_AFTER_PUBLICITY, acceleration
from trading.services.scheduling import step_schedule
from trading.services.tender_status import illegal_transition, lock_tender, tender_transition
from trading.steps import BID_DEADLINE, PUBLICITY_END

AMENDMENT_KINDS = (NoticeKind.AMENDMENT, NoticeKind.CLARIFICATION)
RESULT_NOTICE_KINDS = RESULT_KINDS
MAX_TITLE = 300
MAX_BODY = 100_000


def _fmt(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def _check_text(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    fields = {}
    if not title:
        fields["title"] = ["required"]
    elif len(title) > MAX_TITLE:
        fields["title"] = [f"at most {MAX_TITLE} characters"]
    if not body:
        fields["body"] = ["required"]
    elif len(body) > MAX_BODY:
        fields["body"] = [f"at most {MAX_BODY} characters"]
    if fields:
        raise DomainError(_("A notice needs a title and a body."), fields=fields)
    return title, body


@transaction.atomic
def notice_anchor(kind: str, body: str) -> tuple[str, dict | None]:
    """Public anchoring (docs/witness.md): a result notice's body ends with the latest witnessed
    audit checkpoint, verbatim; returns (body, {"tree_size", "root_hash"} for the audit event)."""
    entry = anchor() if kind in RESULT_KINDS else None
    if entry is None:
        return body, None
    return f"{body}\n\n{anchor_section(entry)}", {"tree_size": entry["tree_size"], "root_hash": entry["root_hash"]}


def notice_publish(
    *,
    actor,
    tender: Tender,
    kind: str,
    title: str,
    body: str,
    affects_preparation: bool = False,
    new_deadline: datetime | None = None,
    extra: dict | None = None,
) -> Notice:
    """Store the next immutable notice version and its audit event. Callers hold the tender lock."""
    title, body = _check_text(title, body)
    body, anchor = notice_anchor(kind, body)
    if anchor is not None:
        extra = {**(extra or {}), "audit_anchor": anchor}
    version = (Notice.objects.filter(tender=tender).aggregate(v=Max("version"))["v"] or 0) + 1
    notice = Notice(
        tender=tender,
        kind=kind,
        version=version,
        title=title,
        body=body,
        affects_preparation=affects_preparation,
        new_deadline=new_deadline,
        published_at=clock.now(),
        published_by=actor,
    )
    notice.save()
    event = audit_record(
        actor=actor,
        action="notice.published",
        obj=notice,
        data={
            "tender": tender.pk,
            "notice": notice.pk,
            "kind": kind,
            "version": version,
            "content_sha256": notice.content_sha256,
            **(extra or {}),
        },
    )
    notice.receipt = _publication_receipt(actor=actor, notice=notice, event=event)
    return notice


def notice_receipt_payload(notice: Notice) -> dict:
    """The fields of a notice publication receipt (docs/audit.md, "Receipts"); `receipt_issue`
    adds receipt_id, audit_origin, audit_seq and audit_leaf_hash."""
    return {
        "receipt_type": "notice.published",
        "tender": str(notice.tender_id),
        "notice": str(notice.pk),
        "kind": notice.kind,
        "version": notice.version,
        "content_sha256": notice.content_sha256,
        "published_at": notice.published_at,
    }


def _publication_receipt(*, actor, notice: Notice, event) -> dict | None:
    """A receipt for the publishing agent's organisation (or the publishing user when it has none);
    none for the platform's own publications (actor "system")."""
    if getattr(actor, "pk", None) is None:
        return None
    org = getattr(actor, "organisation", None)
    payload = notice_receipt_payload(notice)
    if org is not None:
        return receipt_issue(event=event, payload=payload, holder_org=org)
    return receipt_issue(event=event, payload=payload, holder_user=actor)


# --- amendments and clarifications -------------------------------------------------------------


@dataclass(frozen=True)
class AmendmentProposal:
    affects_preparation: bool
    current_deadline: datetime
    remaining: timedelta
    required: bool  # must the deadline move?
    earliest_deadline: datetime | None  # earliest deadline an amendment may set (15 days from now)
    proposed_deadline: datetime | None  # what the platform proposes when a move is required
    rule: str
    source: str


def _ceil(moment: datetime, unit: timedelta) -> datetime:
    """Round up to a whole multiple of `unit` since the epoch (whole seconds, minutes, hours)."""
    step = unit.total_seconds()
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / step) * step, tz=UTC)


def proposed_deadline(earliest: datetime) -> datetime:
    """A round deadline with some margin after `earliest`, so that an agent who takes a few
    minutes to publish is still in time: +10 minutes, then up to the next full hour
    (both shortened by the sandbox acceleration, never below a second)."""
    factor = acceleration()
    margin = max(timedelta(minutes=10) / factor, timedelta(seconds=1))
    unit = max(timedelta(hours=1) / factor, timedelta(seconds=1))
    return _ceil(earliest + margin, unit)


def amendment_proposal(*, tender: Tender, affects_preparation: bool, at: datetime | None = None) -> AmendmentProposal:
    """Does an amendment published now need a new deadline, and which one does the platform propose?"""
    at = at or clock.now()
    rule = tender.rules.amendment_before_deadline
    earliest = _ceil(rule.after(at), timedelta(seconds=1)) if affects_preparation else None
    required = bool(affects_preparation and tender.bid_deadline < rule.after(at))
    return AmendmentProposal(
        affects_preparation=affects_preparation,
        current_deadline=tender.bid_deadline,
        remaining=tender.bid_deadline - at,
        required=required,
        earliest_deadline=earliest,
        proposed_deadline=proposed_deadline(earliest) if required else None,
        rule=rule.display(),
        source=rule.source,
    )


def _move_deadline(*, actor, tender: Tender, new_deadline: datetime, notice: Notice) -> None:
    old = tender.bid_deadline
    tender.bid_deadline = new_deadline
    update = ["bid_deadline", "updated_at"]
    if tender.documents_available_until is None or tender.documents_available_until == old:
        tender.documents_available_until = new_deadline  # documents stay available up to the deadline
        update.append("documents_available_until")
    tender.save(update_fields=update)
    audit_record(
        actor=actor,
        action="tender.deadline_moved",
        obj=tender,
        data={"tender": tender.pk, "notice": notice.pk, "from": old, "to": new_deadline},
    )
    step_schedule(kind=BID_DEADLINE, subject=f"trading.tender:{tender.pk}", due_at=new_deadline, tender=tender)


def _amendable_now(tender: Tender, kind: str) -> datetime:
    """Refuse an amendment of a kind, or at a time, the rules do not allow; the database's now otherwise."""
    if kind not in AMENDMENT_KINDS:
        raise DomainError(
            _("%(kind)r is not an amendment or clarification.") % {"kind": kind}, fields={"kind": ["invalid"]}
        )
    if tender.status not in (TenderStatus.PUBLISHED, TenderStatus.SUSPENDED) or tender.suspended_from not in (
        "",
        TenderStatus.PUBLISHED,
    ):
        raise StateConflict(
            _("Tender %(code)s is %(status)s: amendments are published between the tender notice and the bid deadline.")
            % {"code": tender.code, "status": tender.get_status_display()},
            code="not_open",
        )
    now = clock.deadline_now()
    if now >= tender.bid_deadline:
        raise StateConflict(
            _("The bid deadline has passed: the tender documents can no longer be amended."), code="deadline_passed"
        )
    return now


def _check_new_deadline(tender: Tender, *, affects_preparation: bool, new_deadline: datetime | None,
                        now: datetime) -> None:
    """The 15-day rule: an amendment that may affect bid preparation leaves at least the legal period
    before the (possibly postponed) deadline; a new deadline only ever postpones."""
    proposal = amendment_proposal(tender=tender, affects_preparation=affects_preparation, at=now)
    rule = tender.rules.amendment_before_deadline
    if new_deadline is not None:
        if new_deadline <= tender.bid_deadline:
            raise RuleViolation(
                _("An amendment can only postpone the bid deadline (now %(t)s).") % {"t": _fmt(tender.bid_deadline)},
                fields={"new_deadline": ["must be later than the current deadline"]},
            )
        if affects_preparation and new_deadline < rule.after(now):
            proposed = proposed_deadline(proposal.earliest_deadline)
            msg = _(
                "An amendment that may affect bid preparation must leave at least %(n)s before the "
                "deadline: set it to %(t)s or later; the platform proposes %(p)s (%(src)s)."
            ) % {"n": rule.display(), "t": _fmt(proposal.earliest_deadline), "p": _fmt(proposed), "src": rule.source}
            raise RuleViolation(
                msg,
                code="deadline_extension_required",
                fields={"new_deadline": [msg], "proposed_deadline": [proposed.isoformat()]},
            )
    elif proposal.required:
        msg = _(
            "Less than %(n)s remain before the bid deadline %(old)s: an amendment that may affect bid "
            "preparation must move the deadline to %(t)s or later; the platform proposes %(p)s (%(src)s)."
        ) % {
            "n": rule.display(),
            "old": _fmt(tender.bid_deadline),
            "t": _fmt(proposal.earliest_deadline),
            "p": _fmt(proposal.proposed_deadline),
            "src": rule.source,
        }
        raise RuleViolation(
            msg,
            code="deadline_extension_required",
            fields={"new_deadline": [msg], "proposed_deadline": [proposal.proposed_deadline.isoformat()]},
        )


@transaction.atomic
def amendment_publish(
    *,
    actor,
    tender: Tender,
    kind: str = NoticeKind.AMENDMENT,
    title: str,
    body: str,
    affects_preparation: bool,
    new_deadline: datetime | None = None,
) -> Notice:
    """Publish an amendment or clarification; move the deadline when the 15-day rule requires it."""
    authorize(actor, "tender.manage", tender)
    lock_tender(tender)
    now = _amendable_now(tender, kind)
    _check_new_deadline(tender, affects_preparation=affects_preparation, new_deadline=new_deadline, now=now)
    notice = notice_publish(
        actor=actor,
        tender=tender,
        kind=kind,
        title=title,
        body=body,
        affects_preparation=affects_preparation,
        new_deadline=new_deadline,
        extra={
            "affects_preparation": affects_preparation,
            "new_deadline": new_deadline,
            "previous_deadline": tender.bid_deadline,
        },
    )
    if new_deadline is not None:
        _move_deadline(actor=actor, tender=tender, new_deadline=new_deadline, notice=notice)
    return notice


# --- result notices ---------------------------------------------------------------------------------


# The status each result notice moves the tender to.
RESULT_NOTICE_STATUS = {
    NoticeKind.CANDIDATE_PUBLICITY: TenderStatus.PUBLICITY,
    NoticeKind.AWARD_RESULT: TenderStatus.AWARDED,
    NoticeKind.FAILURE: TenderStatus.FAILED,
    NoticeKind.TERMINATION: TenderStatus.CANCELLED,
}


@transaction.atomic
def result_notice_publish(*, actor, tender: Tender, kind: str, title: str, body: str) -> Notice:
    """Candidate publicity, award result, failure (流标) or termination, each with its status change."""
    authorize(actor, "tender.manage", tender)
    lock_tender(tender)
    if kind not in RESULT_NOTICE_KINDS:
        raise DomainError(_("%(kind)r is not a result notice.") % {"kind": kind}, fields={"kind": ["invalid"]})
    title, body = _check_text(title, body)
    if kind == NoticeKind.TERMINATION and tender.status == TenderStatus.DRAFT:
        raise StateConflict(_("A draft is withdrawn, not terminated by a notice."), code="illegal_transition")
    if kind not in result_notice_kinds(tender):  # the phase table (trading/phases.py, RESULT_NOTICE)
        raise illegal_transition(tender, tender.status, RESULT_NOTICE_STATUS[kind])
    extra: dict = {}
    if kind == NoticeKind.CANDIDATE_PUBLICITY:
        if tender.status != TenderStatus.EVALUATING:
            raise illegal_transition(tender, tender.status, TenderStatus.PUBLICITY)
        tender_transition(actor=actor, tender=tender, to=TenderStatus.PUBLICITY, reason="candidate publicity")
        ends = tender.rules.publicity.after(clock.now())
        tender.publicity_ends_at, tender.publicity_ended_at = ends, None
        tender.save(update_fields=["publicity_ends_at", "publicity_ended_at", "updated_at"])
        step_schedule(kind=PUBLICITY_END, subject=f"trading.tender:{tender.pk}", due_at=ends, tender=tender)
        extra["publicity_ends_at"] = ends
    elif kind == NoticeKind.AWARD_RESULT:
        if tender.status == TenderStatus.PUBLICITY and tender.publicity_ended_at is None:
            raise RuleViolation(
                _("The candidate publicity runs until %(t)s; the award follows it (%(src)s).")
                % {"t": _fmt(tender.publicity_ends_at), "src": AWARD_AFTER_PUBLICITY},
                code="publicity_running",
            )
        if tender.objections.filter(status=ObjectionStatus.OPEN).exists():
            raise RuleViolation(
                _("An objection is pending; the award is suspended until it is answered (%(src)s).")
                % {"src": AWARD_AFTER_PUBLICITY},
                code="objection_pending",
            )
        tender_transition(actor=actor, tender=tender, to=TenderStatus.AWARDED, reason="award notice")
    elif kind == NoticeKind.FAILURE:
        tender_transition(actor=actor, tender=tender, to=TenderStatus.FAILED, reason="failure notice")
    elif kind == NoticeKind.TERMINATION:
        tender_transition(actor=actor, tender=tender, to=TenderStatus.CANCELLED, reason="termination notice")
    return notice_publish(actor=actor, tender=tender, kind=kind, title=title, body=body, extra=extra)
