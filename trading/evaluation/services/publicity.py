"""Candidate publicity (中标候选人公示), objections to the evaluation result, complaints.

- `publicity_start`: within 3 days of the final report, for at least 3 days (实施条例 Art 54);
  publishes the trading notice `candidate_publicity` (tender → publicity, the `publicity_end`
  step of trading/steps.py ends it) with the candidates and rejections of every lot.
- `publicity_objection_raise` / `_reply`: objections only during the publicity, reply within
  3 days (government procurement: 7 working days), the tender suspended meanwhile, so the award
  waits. An upheld objection sends the result back to the committee (publicity → evaluating,
  a new round; the publicity is withdrawn).
- `complaint_file` / `_accept` / `_reject` / `_decide`: to the supervising department within
  10 days (实施条例 Art 60; an objection first for the evaluation result), accepted or not
  within 3 working days and decided within 30 working days (Art 61).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.canonical import normalize
from audit.services import audit_record
from config.errors import DomainError, RuleViolation, StateConflict
from trading import clock
from trading.evaluation.models import (
    Award,
    CandidatePublicity,
    Complaint,
    ComplaintDecision,
    ComplaintStatus,
    EvaluationReport,
    EvaluationSession,
    ObjectionOutcome,
    PublicityObjection,
    PublicityObjectionStatus,
    ReportStatus,
    SessionStatus,
)
from trading.evaluation.rules import (
    OBJECTION_BEFORE_COMPLAINT,
    OBJECTION_DURING_PUBLICITY,
    OBJECTION_SUSPENDS,
    evaluation_rules,
)
from trading.evaluation.services.common import clean_text, fmt, sha256_json, sha256_text, subject
from trading.evaluation.services.reports import PUBLIC, current_report, report_view
from trading.models import NoticeKind, Tender, TenderStatus
from trading.services.notices import result_notice_publish
from trading.services.scheduling import step_schedule
from trading.services.tender_status import illegal_transition, lock_tender, tender_transition
from trading.steps import PUBLICITY_END

OBJECTION_REPLY_DUE = "publicity_objection_reply_due"
COMPLAINT_ACCEPT_DUE = "complaint_accept_due"
COMPLAINT_DECISION_DUE = "complaint_decision_due"


def live_sessions(tender: Tender) -> list[EvaluationSession]:
    return list(
        EvaluationSession.objects.filter(tender=tender)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("lot")
        .order_by("lot__number")
    )


def current_publicity(tender: Tender) -> CandidatePublicity | None:
    return CandidatePublicity.objects.filter(tender=tender, withdrawn_at__isnull=True).order_by("-starts_at").first()


def in_publicity(tender: Tender) -> bool:
    return tender.status == TenderStatus.PUBLICITY or (
        tender.status == TenderStatus.SUSPENDED and tender.suspended_from == TenderStatus.PUBLICITY
    )


def _final_reports(tender: Tender) -> list[EvaluationReport]:
    sessions = live_sessions(tender)
    if not sessions:
        raise StateConflict(_("No lot of this tender has been evaluated."), code="not_evaluated")
    reports = []
    for session in sessions:
        report = current_report(session)
        if session.status != SessionStatus.CONCLUDED or report is None or report.status != ReportStatus.FINAL:
            raise StateConflict(
                _("Lot %(n)s: the evaluation report is not final yet.") % {"n": session.lot.number},
                code="report_not_final",
            )
        reports.append(report)
    return reports


def publicity_body(content: dict, period) -> str:
    """The human-readable notice text of the publicity content."""
    lines = [f"{content['tender_code']} {content['tender_title']}", ""]
    for lot in content["lots"]:
        lines.append(f"Lot {lot['lot_number']} {lot['lot_title']} (report SHA-256 {lot['report_sha256']}):")
        for c in lot["candidates"]:
            score = f", score {c['score']}" if c.get("score") is not None else ""
            lines.append(f"  {c['rank']}. {c['bidder_name']}, price {c['price']}{score}")
        for r in lot["rejections"]:
            lines.append(f"  rejected: {r['bidder_name']}: {'; '.join(r['reasons'])}")
        lines.append("")
    lines.append(
        f"The publicity lasts {period.describe()} from this notice ({period.source}). Objections to the evaluation "
        f"result are raised during the publicity ({OBJECTION_DURING_PUBLICITY})."
    )
    return "\n".join(lines)


@transaction.atomic
def publicity_start(*, actor, tender: Tender, title: str = "") -> CandidatePublicity:
    """Publish the candidates of every lot (from the final reports) for the publicity period."""
    authorize(actor, "tender.manage", tender)
    lock_tender(tender)
    if tender.status != TenderStatus.EVALUATING:
        raise illegal_transition(tender, tender.status, TenderStatus.PUBLICITY)
    reports = _final_reports(tender)
    lots = [
        {
            "lot": r.session.lot_id,
            "lot_number": r.session.lot.number,
            "lot_title": r.session.lot.title,
            "method": r.session.method,
            "report": r.pk,
            "report_version": r.version,
            "report_sha256": r.sha256,
            "candidates": report_view(r, PUBLIC)["content"]["candidates"],
            "rejections": report_view(r, PUBLIC)["content"]["rejections"],
        }
        for r in reports
    ]
    head = {"tender": tender.pk, "tender_code": tender.code, "tender_title": tender.title}
    notice = result_notice_publish(
        actor=actor,
        tender=tender,
        kind=NoticeKind.CANDIDATE_PUBLICITY,
        title=(title or "").strip() or f"{tender.code} {tender.title}: candidates (中标候选人公示)",
        body=publicity_body({**head, "lots": normalize(lots)}, tender.rules.publicity),
    )
    tender.refresh_from_db()
    # The period runs from the notice's publication for at least 3 days (Art 54).
    starts = notice.published_at
    ends = max(tender.publicity_ends_at, tender.rules.publicity.after(starts),
               evaluation_rules(tender.procedure_type).publicity_min.after(starts))
    if ends != tender.publicity_ends_at:
        tender.publicity_ends_at = ends
        tender.save(update_fields=["publicity_ends_at", "updated_at"])
        step_schedule(kind=PUBLICITY_END, subject=f"trading.tender:{tender.pk}", due_at=ends, tender=tender)
    content = normalize({**head, "starts_at": starts, "ends_at": ends, "lots": lots})
    publish_by = max(r.publish_by for r in reports)
    publicity = CandidatePublicity.objects.create(
        tender=tender,
        notice=notice,
        content=content,
        sha256=sha256_json(content),
        starts_at=starts,
        ends_at=ends,
        publish_by=publish_by,
        late=starts > publish_by,
    )
    audit_record(
        actor=actor,
        action="candidate_publicity.started",
        obj=publicity,
        data={
            "tender": tender.pk,
            "publicity": publicity.pk,
            "notice": notice.pk,
            "sha256": publicity.sha256,
            "starts_at": publicity.starts_at,
            "ends_at": publicity.ends_at,
            "publish_by": publish_by,
            "late": publicity.late,
            "lots": [
                {"lot": lot["lot"], "report_sha256": lot["report_sha256"],
                 "candidates": [{"rank": c["rank"], "bidder": c["bidder"], "price": c["price"]}
                                for c in lot["candidates"]]}
                for lot in content["lots"]
            ],
        },
    )
    return publicity


# --- objections to the evaluation result --------------------------------------------------------------


@transaction.atomic
def publicity_objection_raise(*, actor, tender: Tender, text: str) -> PublicityObjection:
    authorize(actor, "publicity.object", tender)
    text = clean_text(text, "text")
    lock_tender(tender)
    publicity = current_publicity(tender)
    now = clock.now()
    if publicity is None or not in_publicity(tender) or not (publicity.starts_at <= now < publicity.ends_at):
        raise RuleViolation(
            _("Objections to the evaluation result are raised during the candidate publicity (%(src)s).")
            % {"src": OBJECTION_DURING_PUBLICITY},
            code="not_in_publicity",
        )
    rule = evaluation_rules(tender.procedure_type).objection_reply
    reply_due = rule.after(now)
    objection = PublicityObjection.objects.create(
        publicity=publicity,
        tender=tender,
        raised_by_org_id=actor.organisation_id,
        raised_by=actor,
        text=text,
        raised_at=now,
        reply_due_at=reply_due,
    )
    audit_record(
        actor=actor,
        action="publicity_objection.raised",
        obj=objection,
        data={"tender": tender.pk, "objection": objection.pk, "publicity": publicity.pk,
              "raised_by_org": actor.organisation_id, "text_sha256": sha256_text(text), "reply_due_at": reply_due,
              "source": rule.source},
    )
    if tender.status == TenderStatus.PUBLICITY:
        tender_transition(
            actor="system",
            tender=tender,
            to=TenderStatus.SUSPENDED,
            reason=f"objection to the evaluation result pending ({OBJECTION_SUSPENDS})",
            data={"publicity_objection": objection.pk},
        )
    step_schedule(kind=OBJECTION_REPLY_DUE, subject=subject(objection), due_at=reply_due, tender=tender)
    return objection


@transaction.atomic
def publicity_objection_reply(*, actor, objection: PublicityObjection, reply: str, upheld: bool = False):
    """Answer an objection. The tender resumes when none is left open; if one of the publicity's
    objections was upheld, the result goes back to the committee (a new evaluation round)."""
    tender = objection.tender
    authorize(actor, "publicity.reply", tender)
    reply = clean_text(reply, "reply")
    lock_tender(tender)
    objection = PublicityObjection.objects.select_for_update().get(pk=objection.pk)
    if objection.status != PublicityObjectionStatus.OPEN:
        raise StateConflict(_("This objection is already answered."), code="already_replied")
    now = clock.now()
    objection.reply, objection.replied_by, objection.replied_at = reply, actor, now
    objection.status = PublicityObjectionStatus.REPLIED
    objection.outcome = ObjectionOutcome.UPHELD if upheld else ObjectionOutcome.DISMISSED
    objection.save(update_fields=["reply", "replied_by", "replied_at", "status", "outcome"])
    audit_record(
        actor=actor,
        action="publicity_objection.replied",
        obj=objection,
        data={"tender": tender.pk, "objection": objection.pk, "reply_sha256": sha256_text(reply),
              "outcome": objection.outcome, "late": now > objection.reply_due_at},
    )
    publicity = objection.publicity
    still_open = PublicityObjection.objects.filter(publicity=publicity, status=PublicityObjectionStatus.OPEN).exists()
    if still_open:
        return objection
    if tender.status == TenderStatus.SUSPENDED and tender.suspended_from == TenderStatus.PUBLICITY:
        tender_transition(
            actor=actor, tender=tender, to=TenderStatus.PUBLICITY, reason="objections answered",
            data={"publicity_objection": objection.pk},
        )
    if publicity.withdrawn_at is None and publicity.objections.filter(outcome=ObjectionOutcome.UPHELD).exists():
        _send_back(actor=actor, tender=tender, publicity=publicity, now=now)
    return objection


def _send_back(*, actor, tender: Tender, publicity: CandidatePublicity, now) -> None:
    """An upheld objection: withdraw the publicity and reopen every session in a new round (重新评审)."""
    publicity.withdrawn_at = now
    publicity.save(update_fields=["withdrawn_at"])
    tender_transition(
        actor=actor,
        tender=tender,
        to=TenderStatus.EVALUATING,
        reason="objection to the evaluation result upheld: re-evaluation",
        data={"publicity": publicity.pk},
    )
    for session in live_sessions(tender):
        for report in session.reports.filter(status=ReportStatus.FINAL):
            report.status = ReportStatus.SUPERSEDED
            report.save(update_fields=["status"])
        session.round += 1
        session.status = SessionStatus.OPEN
        session.concluded_at = None
        session.save(update_fields=["round", "status", "concluded_at"])
        audit_record(
            actor=actor,
            action="evaluation.reopened",
            obj=session,
            data={"tender": tender.pk, "lot": session.lot_id, "session": session.pk, "round": session.round,
                  "publicity": publicity.pk},
        )


# --- complaints to the supervising department -----------------------------------------------------------


def complaint_window_start(*, tender: Tender, objection: PublicityObjection | None):
    """When the 10 days start: the reply to the objection (its period is not counted, 实施条例 Art 60), or
    the reply's due time if none came; without an objection, the award result notice."""
    if objection is not None:
        return objection.replied_at or objection.reply_due_at
    award = Award.objects.filter(tender=tender).order_by("awarded_at").first()
    return award.awarded_at if award else None


@transaction.atomic
def complaint_file(*, actor, tender: Tender, text: str, objection: PublicityObjection | None = None) -> Complaint:
    authorize(actor, "complaint.file", tender)
    text = clean_text(text, "text")
    lock_tender(tender)
    now = clock.now()
    rules = evaluation_rules(tender.procedure_type)
    if objection is not None:
        if objection.tender_id != tender.pk or objection.raised_by_org_id != actor.organisation_id:
            raise DomainError(_("Name an objection your organisation raised on this tender."),
                              fields={"objection": ["not yours"]})
        if objection.status == PublicityObjectionStatus.OPEN and now <= objection.reply_due_at:
            raise RuleViolation(
                _("Your objection awaits its reply (due %(t)s); a complaint follows the reply (%(src)s).")
                % {"t": fmt(objection.reply_due_at), "src": OBJECTION_BEFORE_COMPLAINT},
                code="objection_pending",
            )
    start = complaint_window_start(tender=tender, objection=objection)
    if start is None:
        raise RuleViolation(
            _("A complaint about the evaluation result follows an objection during the publicity (%(src)s).")
            % {"src": OBJECTION_BEFORE_COMPLAINT},
            code="objection_required",
        )
    deadline = rules.complaint_within.after(start)
    if now > deadline:
        raise RuleViolation(
            _("Complaints are filed within %(n)s, that is by %(t)s (%(src)s).")
            % {"n": rules.complaint_within.display(), "t": fmt(deadline), "src": rules.complaint_within.source},
            code="complaint_too_late",
        )
    accept_due = rules.complaint_accept.after(now)
    complaint = Complaint.objects.create(
        tender=tender,
        objection=objection,
        raised_by_org_id=actor.organisation_id,
        raised_by=actor,
        text=text,
        filed_at=now,
        filing_deadline=deadline,
        accept_due_at=accept_due,
    )
    audit_record(
        actor=actor,
        action="complaint.filed",
        obj=complaint,
        data={"tender": tender.pk, "complaint": complaint.pk, "objection": objection.pk if objection else None,
              "raised_by_org": actor.organisation_id, "text_sha256": sha256_text(text),
              "filing_deadline": deadline, "accept_due_at": accept_due, "source": rules.complaint_within.source},
    )
    step_schedule(kind=COMPLAINT_ACCEPT_DUE, subject=subject(complaint), due_at=accept_due, tender=tender)
    return complaint


def _lock_complaint(complaint: Complaint) -> Complaint:
    lock_tender(complaint.tender)
    return Complaint.objects.select_for_update().select_related("tender").get(pk=complaint.pk)


@transaction.atomic
def complaint_accept(*, actor, complaint: Complaint) -> Complaint:
    authorize(actor, "complaint.handle", complaint)
    complaint = _lock_complaint(complaint)
    if complaint.status != ComplaintStatus.FILED:
        raise StateConflict(_("This complaint has already been handled."), code="handled")
    now = clock.now()
    rules = evaluation_rules(complaint.tender.procedure_type)
    complaint.status, complaint.accepted_at, complaint.handled_by = ComplaintStatus.ACCEPTED, now, actor
    complaint.decide_due_at = rules.complaint_decide.after(now)
    complaint.save(update_fields=["status", "accepted_at", "handled_by", "decide_due_at"])
    audit_record(
        actor=actor,
        action="complaint.accepted",
        obj=complaint,
        data={"tender": complaint.tender_id, "complaint": complaint.pk, "late": now > complaint.accept_due_at,
              "decide_due_at": complaint.decide_due_at, "source": rules.complaint_decide.source},
    )
    step_schedule(kind=COMPLAINT_DECISION_DUE, subject=subject(complaint), due_at=complaint.decide_due_at,
                  tender=complaint.tender)
    return complaint


@transaction.atomic
def complaint_reject(*, actor, complaint: Complaint, reason: str) -> Complaint:
    """Not accepted (不予受理), with the reason."""
    authorize(actor, "complaint.handle", complaint)
    reason = clean_text(reason, "reason")
    complaint = _lock_complaint(complaint)
    if complaint.status != ComplaintStatus.FILED:
        raise StateConflict(_("This complaint has already been handled."), code="handled")
    now = clock.now()
    complaint.status, complaint.handled_by, complaint.decision_text, complaint.decided_at = (
        ComplaintStatus.REJECTED, actor, reason, now)
    complaint.save(update_fields=["status", "handled_by", "decision_text", "decided_at"])
    audit_record(
        actor=actor,
        action="complaint.rejected",
        obj=complaint,
        data={"tender": complaint.tender_id, "complaint": complaint.pk, "reason_sha256": sha256_text(reason),
              "late": now > complaint.accept_due_at},
    )
    return complaint


@transaction.atomic
def complaint_decide(*, actor, complaint: Complaint, decision: str, text: str) -> Complaint:
    """The written decision (书面处理决定, 实施条例 Art 61)."""
    authorize(actor, "complaint.handle", complaint)
    if decision not in ComplaintDecision.values:
        raise DomainError(_("Decision: upheld or dismissed."), fields={"decision": ["invalid"]})
    text = clean_text(text, "text")
    complaint = _lock_complaint(complaint)
    if complaint.status != ComplaintStatus.ACCEPTED:
        raise StateConflict(_("Only an accepted complaint is decided."), code="not_accepted")
    now = clock.now()
    complaint.status, complaint.decision, complaint.decision_text, complaint.decided_at = (
        ComplaintStatus.DECIDED, decision, text, now)
    complaint.handled_by = actor
    complaint.save(update_fields=["status", "decision", "decision_text", "decided_at", "handled_by"])
    audit_record(
        actor=actor,
        action="complaint.decided",
        obj=complaint,
        data={"tender": complaint.tender_id, "complaint": complaint.pk, "decision": decision,
              "text_sha256": sha256_text(text), "late": now > complaint.decide_due_at},
    )
    return complaint
