"""The evaluation session: opening it after the opening, members' sign-in (the panel reveal),
declarations, marks and scores, submission of signed sheets, replacement of a member.

Lock order everywhere: the tender row (`lock_tender`), then the session row, then members.
Sheets are drafts until submitted; a submission is final for its round and gets the
platform's signed receipt. Audit events carry hashes of sheets, never the scores: the
scores are disclosed with the report (its SHA-256 is in the chain) when the publicity starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.canonical import normalize
from audit.services import audit_record
from audit.signing import sign_receipt
from config.errors import DomainError, NotFoundError, NotPermitted, RuleViolation, StateConflict
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
    QualificationMark,
    ReportStatus,
    Score,
    SessionStatus,
    SheetSubmission,
)
from trading.evaluation.ranking import COMPREHENSIVE_SCORING
from trading.evaluation.rules import INTEREST_DECLARATION, MEMBER_REPLACEMENT, REJECTION
from trading.evaluation.services.common import clean_text, sha256_json, sha256_text
from trading.evaluation.services.criteria import criteria_problems
from trading.models import Lot, TenderStatus
from trading.services.tender_status import lock_tender


def _base(session: EvaluationSession) -> dict:
    return {"tender": session.tender_id, "lot": session.lot_id, "session": session.pk}


def lock_session(session: EvaluationSession) -> EvaluationSession:
    """Lock the tender, then the session; refresh the caller's copy."""
    lock_tender(session.tender)
    locked = EvaluationSession.objects.select_for_update().get(pk=session.pk)
    for f in locked._meta.concrete_fields:
        setattr(session, f.attname, getattr(locked, f.attname))
    return session


def _lock_member(member: CommitteeMember) -> CommitteeMember:
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
            **_base(session),
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
            data={**_base(session), "report": report.pk, "version": report.version, "sha256": report.sha256,
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
            data={**_base(session), "seat": member.seat, "expert_hash": member.expert_hash, "reason": reason,
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
        data={**_base(session), "seat": member.seat, "expert": member.expert_id, "expert_hash": member.expert_hash,
              "assignment": member.assignment_id},
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
    _lock_member(member)
    _own_active(actor, member)
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
        data={**_base(member.session), "seat": member.seat, "expert_hash": member.expert_hash,
              "no_conflict": no_conflict, "declaration_sha256": member.declaration_sha256},
    )
    if not no_conflict:
        _void(member, MemberStatus.RECUSED, "declared a conflict of interest", now)
        sources.leave(member.assignment_id, "declared a conflict of interest at evaluation sign-in")
        audit_record(
            actor=actor,
            action="evaluation.member_recused",
            obj=member,
            data={**_base(member.session), "seat": member.seat, "expert_hash": member.expert_hash,
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
    _lock_member(member)
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
        data={**_base(session), "seat": member.seat, "expert_hash": member.expert_hash, "reason": reason,
              "voided": count, "source": MEMBER_REPLACEMENT},
    )
    _reopen_if_signing(session, now, "a member was replaced")
    return member


# --- marks, scores, submission -----------------------------------------------------------------------


def _own_active(actor, member: CommitteeMember) -> None:
    if member.user_id != getattr(actor, "pk", None):
        raise NotPermitted(_("This is not your seat."), code="not_your_seat")
    if member.status != MemberStatus.ACTIVE:
        raise StateConflict(_("You are no longer a member of this committee."), code="not_active")


def submitted(member: CommitteeMember) -> SheetSubmission | None:
    return member.submissions.filter(round=member.session.round).first()


def _editable(actor, member: CommitteeMember) -> None:
    _lock_member(member)
    _own_active(actor, member)
    session = member.session
    if session.status != SessionStatus.OPEN:
        raise StateConflict(_("The sheets of this round are closed."), code="not_open")
    if member.declared_at is None:
        raise StateConflict(
            _("Declare that you have no conflict of interest before evaluating (%(src)s).")
            % {"src": INTEREST_DECLARATION},
            code="declaration_required",
        )
    if submitted(member) is not None:
        raise StateConflict(_("You have submitted your sheet for this round: it is final."), code="submitted")


def _bid(session: EvaluationSession, bid_id) -> EvaluationBid:
    try:
        return session.bids.get(pk=int(bid_id))
    except (EvaluationBid.DoesNotExist, TypeError, ValueError):
        raise NotFoundError(_("No such bid in this evaluation."), fields={"bid": ["unknown"]}) from None


def _draft_event(actor, member: CommitteeMember, kind: str, count: int) -> None:
    audit_record(
        actor=actor,
        action="evaluation.sheet_saved",
        obj=member,
        data={**_base(member.session), "seat": member.seat, "round": member.session.round, "part": kind,
              "entries": count, "draft_sha256": sha256_json(sheet_content(member))},
    )


@transaction.atomic
def marks_save(*, actor, member: CommitteeMember, marks: list[dict]) -> list[QualificationMark]:
    """Save qualification marks (pass/fail; a failure needs its reason, 实施条例 Art 51)."""
    _editable(actor, member)
    now = clock.now()
    saved = []
    for i, item in enumerate(marks):
        bid = _bid(member.session, item.get("bid"))
        passed = bool(item.get("passed"))
        reason = (item.get("reason") or "").strip()
        if not passed and not reason:
            raise DomainError(
                _("A failed bid needs the reason of its rejection (%(src)s).") % {"src": REJECTION},
                fields={"marks": {str(i): ["reason required"]}},
            )
        mark, _created = QualificationMark.objects.update_or_create(
            member=member, bid=bid, defaults={"passed": passed, "reason": reason[:2000], "updated_at": now}
        )
        saved.append(mark)
    _draft_event(actor, member, "qualification", len(saved))
    return saved


def _points(value, criterion: Criterion, index: int) -> Decimal:
    try:
        points = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        points = None
    if (
        points is None
        or not points.is_finite()
        or points < 0
        or points > criterion.max_points
        or points != points.quantize(Decimal("0.01"))
    ):
        raise DomainError(
            _("Points for %(name)s: from 0 to %(max)s, at most 2 decimals.")
            % {"name": criterion.name, "max": criterion.max_points},
            fields={"scores": {str(index): [f"0..{criterion.max_points}"]}},
        )
    return points


@transaction.atomic
def scores_save(*, actor, member: CommitteeMember, scores: list[dict]) -> list[Score]:
    """Save points per (bid, scored criterion) — comprehensive scoring only."""
    _editable(actor, member)
    session = member.session
    if session.method != COMPREHENSIVE_SCORING:
        raise StateConflict(_("The lowest evaluated price method has no scores."), code="no_scores")
    criteria = {c.pk: c for c in Criterion.objects.filter(tender_id=session.tender_id, kind=CriterionKind.SCORED)}
    now = clock.now()
    saved = []
    for i, item in enumerate(scores):
        bid = _bid(session, item.get("bid"))
        try:
            criterion = criteria[int(item.get("criterion"))]
        except (KeyError, TypeError, ValueError):
            raise DomainError(
                _("Unknown criterion, or a price criterion (computed, not scored)."),
                fields={"scores": {str(i): ["criterion"]}},
            ) from None
        points = _points(item.get("points"), criterion, i)
        score, _created = Score.objects.update_or_create(
            member=member,
            bid=bid,
            criterion=criterion,
            defaults={"points": points, "comment": (item.get("comment") or "").strip()[:2000], "updated_at": now},
        )
        saved.append(score)
    _draft_event(actor, member, "scores", len(saved))
    return saved


def sheet_content(member: CommitteeMember) -> dict:
    """The member's sheet as canonical data (what is hashed and signed)."""
    session = member.session
    return {
        "tender": session.tender_id,
        "lot": session.lot_id,
        "session": session.pk,
        "round": session.round,
        "method": session.method,
        "seat": member.seat,
        "expert_hash": member.expert_hash,
        "bids_sha256": session.bids_sha256,
        "marks": [
            {"bid": m.bid_id, "passed": m.passed, "reason": m.reason}
            for m in member.marks.order_by("bid_id")
        ],
        "scores": [
            {"bid": s.bid_id, "criterion": s.criterion_id, "points": s.points, "comment": s.comment}
            for s in member.scores.order_by("bid_id", "criterion_id")
        ],
    }


def sheet_problems(member: CommitteeMember) -> list[str]:
    """What is missing before the sheet can be submitted."""
    session = member.session
    bids = list(session.bids.select_related("bidder").order_by("received_at", "pk"))
    marked = set(member.marks.values_list("bid_id", flat=True))
    problems = [
        _("qualification of %(bidder)s (bid %(bid)s)") % {"bidder": b.bidder.name, "bid": b.pk}
        for b in bids
        if b.pk not in marked
    ]
    if session.method == COMPREHENSIVE_SCORING:
        criteria = list(
            Criterion.objects.filter(tender_id=session.tender_id, kind=CriterionKind.SCORED).values_list("pk", "name")
        )
        have = set(member.scores.values_list("bid_id", "criterion_id"))
        # Every bid is scored, even one the member fails: the sheet is complete whatever the majority decides.
        problems += [
            _("score of %(bidder)s on %(criterion)s") % {"bidder": b.bidder.name, "criterion": name}
            for b in bids
            for c, name in criteria
            if (b.pk, c) not in have
        ]
    return problems


@transaction.atomic
def sheet_submit(*, actor, member: CommitteeMember) -> SheetSubmission:
    """Submit the sheet: final for the round; the platform signs a receipt over its SHA-256.
    The last submission of the committee generates the report for signature."""
    _editable(actor, member)
    session = member.session
    if panel_sync(session) and not CommitteeMember.objects.filter(pk=member.pk, status=MemberStatus.ACTIVE).exists():
        raise StateConflict(_("You are no longer a member of this committee."), code="not_active")
    problems = sheet_problems(member)
    if problems:
        raise DomainError(
            _("The sheet is incomplete: %(p)s.") % {"p": "; ".join(problems[:10])},
            code="sheet_incomplete",
            fields={"sheet": problems},
        )
    now = clock.now()
    content = sheet_content(member)
    digest = sha256_json(content)
    receipt = sign_receipt(
        {
            "kind": "evaluation_sheet",
            **_base(session),
            "round": session.round,
            "seat": member.seat,
            "expert_hash": member.expert_hash,
            "sheet_sha256": digest,
            "submitted_at": now,
        }
    )
    from audit.canonical import normalize

    submission = SheetSubmission.objects.create(
        member=member, round=session.round, content=normalize(content), sha256=digest, receipt=receipt,
        submitted_at=now,
    )
    audit_record(
        actor=actor,
        action="evaluation.sheet_submitted",
        obj=member,
        data={**_base(session), "round": session.round, "seat": member.seat, "expert_hash": member.expert_hash,
              "sheet_sha256": digest, "receipt_key_id": receipt["key_id"]},
    )
    from trading.evaluation.services.reports import report_generate_if_complete

    report_generate_if_complete(session=session)
    return submission
