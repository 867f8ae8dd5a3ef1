"""The evaluation session and its panel: opening it after the opening, members' sign-in (the panel
reveal), declarations, replacement of a member. The members' marking sheets are in `sheets.py`.

Lock order everywhere: the tender row (`lock_tender`), then the session row, then members.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.canonical import normalize
from audit.services import audit_record
from config.errors import NotPermitted, RuleViolation, StateConflict
from credit.services import credit_score
from trading import clock
from trading.evaluation import sources
from trading.evaluation.models import (
    CommitteeMember,
    Criterion,
    CriterionKind,
    EvaluationBid,
    EvaluationSession,
    MemberStatus,
    ReportStatus,
    SessionStatus,
    SheetSubmission,
)
from trading.evaluation.ranking import COMPREHENSIVE_SCORING
from trading.evaluation.rules import INTEREST_DECLARATION, MEMBER_REPLACEMENT
from trading.evaluation.services.common import clean_text, sha256_json, sha256_text
from trading.evaluation.services.criteria import criteria_problems
from trading.models import Lot, TenderStatus
from trading.services.tender_status import lock_tender


def session_data(session: EvaluationSession) -> dict:
    """The tender, lot and session ids every evaluation audit event carries."""
    return {"tender": session.tender_id, "lot": session.lot_id, "session": session.pk}


def lock_session(session: EvaluationSession) -> EvaluationSession:
    """Lock the tender, then the session; refresh the caller's copy."""
    lock_tender(session.tender)
    locked = EvaluationSession.objects.select_for_update().get(pk=session.pk)
    for f in locked._meta.concrete_fields:
        setattr(session, f.attname, getattr(locked, f.attname))
    return session


def lock_member(member: CommitteeMember) -> CommitteeMember:
    lock_session(member.session)
    locked = CommitteeMember.objects.select_for_update().get(pk=member.pk)
    for f in locked._meta.concrete_fields:
        setattr(member, f.attname, getattr(locked, f.attname))
    return member


def bids_snapshot(session: EvaluationSession) -> list[dict]:
    return [
        {
            "bid": b.pk,
            "bid_ref": b.bid_ref,
            "bidder": b.bidder_id,
            "bidder_name": b.bidder.name,
            "price": b.price,
            "currency": b.currency,
            "readout": b.readout,
            "received_at": b.received_at,
            "envelope_sha256": b.envelope_sha256,
            **({"credit": b.credit} if b.credit else {}),
        }
        for b in session.bids.select_related("bidder").order_by("received_at", "pk")
    ]


def _credit_item(tender, bidder_id: int) -> dict:
    """The optional credit item (docs/credit.md): computed from the records counting at the bid deadline,
    frozen here in the evaluation's inputs (and so in `bids_sha256`); {} when the tender has none."""
    criterion = Criterion.objects.filter(tender=tender, kind=CriterionKind.CREDIT).first()
    if criterion is None:
        return {}
    item = credit_score(bidder_id, at=tender.bid_deadline, full_marks=int(criterion.max_points))
    return {**item, "at": tender.bid_deadline}


# --- open -----------------------------------------------------------------------------------------


@transaction.atomic
def session_open(*, actor, lot: Lot) -> EvaluationSession:
    """Open the evaluation of a lot once the opening is closed (the tender is `evaluating`):
    snapshot the decrypted bids and bind the lot's drawn panel."""
    tender = lot.tender
    authorize(actor, "evaluation.open", tender)
    lock_tender(tender)
    if tender.status != TenderStatus.EVALUATING:
        raise StateConflict(
            _("Tender %(code)s is %(status)s: the evaluation starts once the opening is closed.")
            % {"code": tender.code, "status": tender.get_status_display()},
            code="not_evaluating",
        )
    if EvaluationSession.objects.filter(lot=lot).exclude(status=SessionStatus.CANCELLED).exists():
        raise StateConflict(_("This lot's evaluation is already open."), code="session_exists")
    method = tender.evaluation_method
    if method == COMPREHENSIVE_SCORING:
        problems = criteria_problems(tender)
        if problems:
            raise RuleViolation(
                _("Comprehensive scoring needs the criteria of the tender documents: %(p)s.")
                % {"p": "; ".join(problems)},
                code="criteria_missing",
            )
    rows = sources.readout_rows(lot)
    if not rows:
        raise StateConflict(_("No bid of this lot was decrypted: there is nothing to evaluate."), code="no_bids")
    panel = sources.panel_for(lot)
    now = clock.now()
    session = EvaluationSession.objects.create(
        tender=tender,
        lot=lot,
        method=method,
        draw_id=panel.draw_id,
        seats=panel.seats,
        opened_by=actor,
        opened_at=now,
        bids_sha256="",
    )
    EvaluationBid.objects.bulk_create(
        [
            EvaluationBid(
                session=session,
                bid_ref=r.bid_ref,
                registration_id=r.registration_id,
                bidder_id=r.bidder_id,
                price=r.price,
                currency=r.currency,
                readout=r.readout,
                files=r.files,
                received_at=r.received_at,
                envelope_sha256=r.envelope_sha256,
                credit=normalize(_credit_item(tender, r.bidder_id)),
            )
            for r in rows
        ]
    )
    session.bids_sha256 = sha256_json(bids_snapshot(session))
    session.save(update_fields=["bids_sha256"])
    audit_record(
        actor=actor,
        action="evaluation.opened",
        obj=session,
        data={
            **session_data(session),
            "method": method,
            "draw": panel.draw_id,
            "seats": panel.seats,
            "bids": len(rows),
            "bids_sha256": session.bids_sha256,
        },
    )
    return session


# --- the panel: sign-in, declaration, replacement ---------------------------------------------------


def _void(member: CommitteeMember, status: str, reason: str, now) -> int:
    """End a member's seat: its marks and scores no longer count. Returns how many rows were voided."""
    member.status, member.ended_at, member.end_reason = status, now, reason[:300]
    member.save(update_fields=["status", "ended_at", "end_reason"])
    return member.marks.count() + member.scores.count() + member.submissions.count()


def _reopen_if_signing(session: EvaluationSession, now, reason: str) -> None:
    """A seat changed while the report awaited signatures: that report version is void."""
    if session.status != SessionStatus.SIGNING:
        return
    for report in session.reports.filter(status=ReportStatus.SIGNING):
        report.status = ReportStatus.SUPERSEDED
        report.save(update_fields=["status"])
        audit_record(
            actor="system",
            action="evaluation_report.superseded",
            obj=report,
            data={**session_data(session), "report": report.pk, "version": report.version, "sha256": report.sha256,
                  "reason": reason},
        )
    session.status = SessionStatus.OPEN
    session.save(update_fields=["status"])


def panel_sync(session: EvaluationSession) -> list[CommitteeMember]:
    """Void the members whose seat the expert app has closed since they signed in (left, released):
    a member replaced mid-way no longer counts (实施条例 Art 46). Caller holds the session lock."""
    active = list(session.members.filter(status=MemberStatus.ACTIVE))
    if not active or session.draw_id is None:
        return []
    accepted = sources.accepted_assignments(session.draw_id)
    now = clock.now()
    voided = []
    for member in active:
        if member.assignment_id in accepted:
            continue
        reason = sources.assignment_end_reason(member.assignment_id)
        count = _void(member, MemberStatus.REPLACED, reason, now)
        audit_record(
            actor="system",
            action="evaluation.member_replaced",
            obj=member,
            data={**session_data(session), "seat": member.seat, "expert_hash": member.expert_hash, "reason": reason,
                  "voided": count, "source": MEMBER_REPLACEMENT},
        )
        voided.append(member)
    if voided:
        _reopen_if_signing(session, now, "a member left the committee")
    return voided


@dataclass(frozen=True)
class SignInOutcome:
    member: CommitteeMember | None
    waiting: bool = False
    removed: int = 0
    message: str = ""


@transaction.atomic
def member_sign_in(*, actor, session: EvaluationSession) -> SignInOutcome:
    """A drawn expert signs in to the evaluation. The first sign-in reveals the panel (experts'
    `panel_reveal`, which re-checks avoidance): if that removed a member, the seat is being refilled
    and the outcome is `waiting` (the removal commits; nobody signs in until the panel is whole)."""
    authorize(actor, "evaluation.sign_in", session)
    lock_session(session)
    if session.status != SessionStatus.OPEN:
        raise StateConflict(_("This evaluation is not open for sign-in."), code="not_open")
    existing = session.members.filter(user=actor, status=MemberStatus.ACTIVE).first()
    if existing is not None:
        return SignInOutcome(existing)
    if sources.seat_of(session.draw_id, actor) is None:
        raise NotPermitted(_("You are not a member of this lot's evaluation committee."), code="not_a_member")
    revealed = sources.reveal(session.draw_id)
    if not revealed.revealed:
        panel_sync(session)
        return SignInOutcome(
            None,
            waiting=True,
            removed=revealed.removed,
            message=_(
                "The committee changed at sign-in: %(n)s member(s) had to withdraw (avoidance) and their seats "
                "are being refilled. Sign in again once the panel is complete."
            )
            % {"n": revealed.removed},
        )
    panel_sync(session)
    seat = sources.seat_of(session.draw_id, actor)
    if seat is None:
        raise NotPermitted(_("You are no longer a member of this committee."), code="not_a_member")
    if session.members.filter(assignment_id=seat.assignment_id).exists():
        raise NotPermitted(_("You have left this committee."), code="left")
    now = clock.now()
    member = CommitteeMember.objects.create(
        session=session,
        seat=seat.seat,
        assignment_id=seat.assignment_id,
        expert_id=seat.expert_id,
        user=actor,
        name=seat.name,
        expert_hash=seat.expert_hash,
        signed_in_at=now,
    )
    audit_record(
        actor=actor,
        action="evaluation.member_signed_in",
        obj=member,
        data={**session_data(session), "seat": member.seat, "expert": member.expert_id,
              "expert_hash": member.expert_hash, "assignment": member.assignment_id},
    )
    return SignInOutcome(member)


def declaration_text(member: CommitteeMember, *, no_conflict: bool) -> str:
    """The declaration the member makes, naming every bidder of the lot (hashed into the record)."""
    names = ", ".join(b.bidder.name for b in member.session.bids.select_related("bidder").order_by("pk"))
    if no_conflict:
        return (
            f"Seat {member.seat}, {member.name}: I declare that I have no interest in, relation to or conflict "
            f"with any of these bidders: {names}; I will evaluate independently and keep the evaluation "
            f"confidential ({INTEREST_DECLARATION})."
        )
    return f"Seat {member.seat}, {member.name}: I declare a conflict of interest with a bidder among: {names}."


@transaction.atomic
def member_declare(*, actor, member: CommitteeMember, no_conflict: bool, statement: str = "") -> CommitteeMember:
    """Declaration of no conflict (回避声明) before seeing the bids. Declaring a conflict recuses the
    member: the seat is refilled by a new draw and the member's work (none yet) is void."""
    lock_member(member)
    require_own_active_seat(actor, member)
    if member.declared_at is not None:
        raise StateConflict(_("You have already made your declaration."), code="already_declared")
    statement = clean_text(statement, "statement", required=not no_conflict, limit=2000)
    text = declaration_text(member, no_conflict=no_conflict) + (f" {statement}" if statement else "")
    now = clock.now()
    member.declared_at, member.declaration_sha256 = now, sha256_text(text)
    member.save(update_fields=["declared_at", "declaration_sha256"])
    audit_record(
        actor=actor,
        action="evaluation.member_declared",
        obj=member,
        data={**session_data(member.session), "seat": member.seat, "expert_hash": member.expert_hash,
              "no_conflict": no_conflict, "declaration_sha256": member.declaration_sha256},
    )
    if not no_conflict:
        _void(member, MemberStatus.RECUSED, "declared a conflict of interest", now)
        sources.leave(member.assignment_id, "declared a conflict of interest at evaluation sign-in")
        audit_record(
            actor=actor,
            action="evaluation.member_recused",
            obj=member,
            data={**session_data(member.session), "seat": member.seat, "expert_hash": member.expert_hash,
                  "source": INTEREST_DECLARATION},
        )
    return member


@transaction.atomic
def member_replace(*, actor, member: CommitteeMember, reason: str) -> CommitteeMember:
    """Replace a member mid-way (illness, misconduct, a conflict found later): the seat is refilled by a
    new draw (实施条例 Art 46) and this member's marks, scores and submissions are void."""
    session = member.session
    authorize(actor, "evaluation.replace_member", session)
    reason = clean_text(reason, "reason", limit=300)
    lock_member(member)
    if session.status == SessionStatus.CONCLUDED:
        raise StateConflict(_("The report is final: the committee can no longer change."), code="concluded")
    if member.status != MemberStatus.ACTIVE:
        raise StateConflict(_("This member has already left the committee."), code="not_active")
    now = clock.now()
    count = _void(member, MemberStatus.REPLACED, reason, now)
    sources.leave(member.assignment_id, f"replaced during the evaluation: {reason}")
    audit_record(
        actor=actor,
        action="evaluation.member_replaced",
        obj=member,
        data={**session_data(session), "seat": member.seat, "expert_hash": member.expert_hash, "reason": reason,
              "voided": count, "source": MEMBER_REPLACEMENT},
    )
    _reopen_if_signing(session, now, "a member was replaced")
    return member


# --- the member's seat and sheet of the round ------------------------------------------------------


def require_own_active_seat(actor, member: CommitteeMember) -> None:
    """Refuse unless `member` is the actor's own seat and still active."""
    if member.user_id != getattr(actor, "pk", None):
        raise NotPermitted(_("This is not your seat."), code="not_your_seat")
    if member.status != MemberStatus.ACTIVE:
        raise StateConflict(_("You are no longer a member of this committee."), code="not_active")


def submitted(member: CommitteeMember) -> SheetSubmission | None:
    """The member's submitted sheet for the session's current round, if any."""
    return member.submissions.filter(round=member.session.round).first()
