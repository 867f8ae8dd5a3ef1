"""Marking sheets: a member's qualification marks and scores, and the submission of the signed sheet.

Sheets are drafts until submitted; a submission is final for its round and gets the
platform's signed receipt. Audit events carry hashes of sheets, never the scores: the
scores are disclosed with the report (its SHA-256 is in the chain) when the publicity starts.
The last submission of the committee generates the report (`reports.report_generate_if_complete`).
Lock order: the tender row, then the session row, then members (`sessions.lock_member`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from audit.canonical import normalize
from audit.services import audit_record
from audit.signing import sign_receipt
from config.errors import DomainError, NotFoundError, StateConflict
from trading import clock
from trading.evaluation.models import (
    CommitteeMember,
    Criterion,
    CriterionKind,
    EvaluationBid,
    EvaluationSession,
    MemberStatus,
    QualificationMark,
    Score,
    SessionStatus,
    SheetSubmission,
)
from trading.evaluation.ranking import COMPREHENSIVE_SCORING
from trading.evaluation.rules import INTEREST_DECLARATION, REJECTION
from trading.evaluation.services.common import sha256_json
from trading.evaluation.services.reports import report_generate_if_complete
from trading.evaluation.services.sessions import (
    lock_member,
    panel_sync,
    require_own_active_seat,
    session_data,
    submitted,
)


def _editable(actor, member: CommitteeMember) -> None:
    lock_member(member)
    require_own_active_seat(actor, member)
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
        data={**session_data(member.session), "seat": member.seat, "round": member.session.round, "part": kind,
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
            **session_data(session),
            "round": session.round,
            "seat": member.seat,
            "expert_hash": member.expert_hash,
            "sheet_sha256": digest,
            "submitted_at": now,
        }
    )
    submission = SheetSubmission.objects.create(
        member=member, round=session.round, content=normalize(content), sha256=digest, receipt=receipt,
        submitted_at=now,
    )
    audit_record(
        actor=actor,
        action="evaluation.sheet_submitted",
        obj=member,
        data={**session_data(session), "round": session.round, "seat": member.seat, "expert_hash": member.expert_hash,
              "sheet_sha256": digest, "receipt_key_id": receipt["key_id"]},
    )
    report_generate_if_complete(session=session)
    return submission
