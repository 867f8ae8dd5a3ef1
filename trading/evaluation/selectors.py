"""Reads of the evaluation sub-app, with the sealing rules of trading/evaluation/policies.py applied."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.policy import can
from config.errors import NotFoundError, NotPermitted
from trading.evaluation import sources
from trading.evaluation.models import (
    Award,
    CandidatePublicity,
    CommitteeMember,
    Complaint,
    Contract,
    Criterion,
    EvaluationReport,
    EvaluationSession,
    MemberStatus,
    PublicityObjection,
    SessionStatus,
    SheetSubmission,
)
from trading.evaluation.policies import publicity_started
from trading.evaluation.services.reports import FULL, PUBLIC, SUMMARY, current_report, report_view
from trading.evaluation.services.sessions import submitted
from trading.evaluation.services.sheets import sheet_content, sheet_problems
from trading.models import Tender
from trading.policies import is_party, is_supervisor

SEALED = "sealed"


def _sealed(message: str) -> NotPermitted:
    return NotPermitted(message, code=SEALED)


# --- sessions --------------------------------------------------------------------------------------


def _expert_draw_ids(user) -> list[int]:
    return sources.draws_of_expert(user)


def sessions_for(user) -> QuerySet[EvaluationSession]:
    """Supervisors: all; the tender's side: theirs; experts: those they sit on or were drawn for."""
    qs = EvaluationSession.objects.select_related("tender", "lot").order_by("-opened_at", "-pk")
    if is_supervisor(user):
        return qs
    org = getattr(user, "organisation_id", None)
    cond = Q(members__user_id=user.pk)
    if org:
        cond |= Q(tender__agent_id=org) | Q(tender__tenderer_id=org)
    draws = _expert_draw_ids(user)
    if draws:
        cond |= Q(draw_id__in=draws)
    return qs.filter(cond).distinct()


def session_get(*, user, pk: int) -> EvaluationSession:
    session = sessions_for(user).filter(pk=pk).first()
    if session is None:
        raise NotFoundError(_("No such evaluation."))
    return session


def member_of(user, session: EvaluationSession) -> CommitteeMember | None:
    return session.members.filter(user_id=user.pk, status=MemberStatus.ACTIVE).first()


def member_get(*, user, pk: int) -> CommitteeMember:
    member = CommitteeMember.objects.select_related("session", "session__tender").filter(pk=pk).first()
    if member is None or not can(user, "evaluation.view", member.session):
        raise NotFoundError(_("No such member."))
    return member


def members_visible(user, session: EvaluationSession) -> list[CommitteeMember]:
    """Names are confidential until the panel is revealed at sign-in (招标投标法 Art 37); members exist
    only from their sign-in, after the reveal."""
    if not can(user, "evaluation.view", session):
        return []
    return list(session.members.order_by("seat", "signed_in_at"))


def progress(session: EvaluationSession) -> dict:
    active = list(session.members.filter(status=MemberStatus.ACTIVE))
    return {
        "seats": session.seats,
        "signed_in": len(active),
        "declared": sum(1 for m in active if m.declared_at),
        "submitted": sum(1 for m in active if submitted(m) is not None),
    }


def bids_visible(user, session: EvaluationSession):
    """The decrypted bids of the lot: its declared members, the tender's side and supervisors."""
    member = member_of(user, session)
    if member is not None:
        if member.declared_at is None:
            raise _sealed(_("Make your declaration of no conflict of interest before seeing the bids."))
        return session.bids.select_related("bidder").order_by("received_at", "pk")
    if is_supervisor(user) or is_party(user, session.tender):
        return session.bids.select_related("bidder").order_by("received_at", "pk")
    raise _sealed(_("The bids of this evaluation are visible to its committee."))


def my_sheet(user, session: EvaluationSession) -> dict:
    member = member_of(user, session)
    if member is None:
        raise NotPermitted(_("You do not sit on this committee."), code="not_a_member")
    sub = submitted(member)
    return {
        "member": member,
        "round": session.round,
        "content": sheet_content(member),
        "problems": sheet_problems(member),
        "submitted_at": sub.submitted_at if sub else None,
        "sha256": sub.sha256 if sub else None,
        "receipt": sub.receipt if sub else None,
    }


def sheets_visible(user, session: EvaluationSession) -> list[dict]:
    """Sheets another reader may see (policies.py): supervisors live drafts and submissions; a member the
    submitted sheets of the round once their own is submitted; the tender's side once the publicity started."""
    if can(user, "evaluation.view_all_sheets", session):
        members = session.members.order_by("seat", "signed_in_at")
        return [
            {"seat": m.seat, "member": m.pk, "status": m.status, "round": session.round,
             "submitted": submitted(m) is not None, "sha256": getattr(submitted(m), "sha256", None),
             "content": sheet_content(m)}
            for m in members
        ]
    member = member_of(user, session)
    if member is not None:
        if submitted(member) is None:
            raise _sealed(_("The other members' sheets are visible once you have submitted yours."))
        subs = SheetSubmission.objects.filter(member__session=session, round=session.round,
                                              member__status=MemberStatus.ACTIVE)
    elif is_party(user, session.tender) and publicity_started(session.tender):
        report = current_report(session)
        subs = SheetSubmission.objects.filter(
            member__session=session, round=report.round if report else session.round,
            member__status=MemberStatus.ACTIVE)
    else:
        raise _sealed(_("Individual scores are confidential until the candidates are published."))
    return [
        {"seat": s.member.seat, "member": s.member_id, "status": s.member.status, "round": s.round,
         "submitted": True, "sha256": s.sha256, "content": s.content}
        for s in subs.select_related("member").order_by("member__seat")
    ]


# --- reports --------------------------------------------------------------------------------------


def report_level(user, report: EvaluationReport) -> str | None:
    if can(user, "evaluation.view_report", report):
        return FULL
    if can(user, "evaluation.view_report_summary", report):
        return SUMMARY
    if publicity_started(report.tender) and report.status == "final":
        return PUBLIC
    return None


def report_get(*, user, pk: int) -> tuple[EvaluationReport, str]:
    report = EvaluationReport.objects.select_related("session", "tender").filter(pk=pk).first()
    if report is None:
        raise NotFoundError(_("No such report."))
    level = report_level(user, report)
    if level is None:
        raise _sealed(_("The evaluation report is confidential until the candidates are published."))
    return report, level


def session_report(*, user, session: EvaluationSession) -> tuple[EvaluationReport, str, dict]:
    report = current_report(session)
    if report is None:
        raise NotFoundError(_("This evaluation has no report yet."), code="no_report")
    level = report_level(user, report)
    if level is None:
        raise _sealed(_("The evaluation report is confidential until the candidates are published."))
    return report, level, report_view(report, level)


def signatures_visible(user, report: EvaluationReport) -> list:
    if report_level(user, report) != FULL:
        return []
    return list(report.signatures.select_related("member").order_by("member__seat"))


# --- publicity, objections, complaints, awards -----------------------------------------------------


def criteria_of(tender: Tender) -> QuerySet[Criterion]:
    return Criterion.objects.filter(tender=tender).order_by("number")


def publicities_of(tender: Tender) -> QuerySet[CandidatePublicity]:
    return CandidatePublicity.objects.filter(tender=tender).select_related("notice", "tender").order_by("-starts_at")


def objections_for(user, tender: Tender) -> QuerySet[PublicityObjection]:
    qs = PublicityObjection.objects.filter(tender=tender).select_related("raised_by_org", "tender")
    if is_supervisor(user) or is_party(user, tender):
        return qs
    org = getattr(user, "organisation_id", None)
    return qs.filter(raised_by_org_id=org) if org else qs.none()


def objection_get(*, user, pk: int) -> PublicityObjection:
    obj = PublicityObjection.objects.select_related("tender", "publicity").filter(pk=pk).first()
    if obj is None or not can(user, "publicity.view_objection", obj):
        raise NotFoundError(_("No such objection."))
    return obj


def complaints_for(user, tender: Tender | None = None) -> QuerySet[Complaint]:
    qs = Complaint.objects.select_related("tender", "raised_by_org", "objection").order_by("-filed_at", "-pk")
    if tender is not None:
        qs = qs.filter(tender=tender)
    if is_supervisor(user):
        return qs
    org = getattr(user, "organisation_id", None)
    if not org:
        return qs.none()
    return qs.filter(Q(raised_by_org_id=org) | Q(tender__agent_id=org) | Q(tender__tenderer_id=org))


def complaint_get(*, user, pk: int) -> Complaint:
    complaint = complaints_for(user).filter(pk=pk).first()
    if complaint is None:
        raise NotFoundError(_("No such complaint."))
    return complaint


def awards_of(tender: Tender) -> QuerySet[Award]:
    return Award.objects.filter(tender=tender).select_related("lot", "bid", "bid__bidder", "notice").order_by(
        "lot__number", "awarded_at"
    )


def award_get(*, pk: int) -> Award:
    award = Award.objects.select_related("tender", "lot", "bid", "bid__bidder").filter(pk=pk).first()
    if award is None:
        raise NotFoundError(_("No such award."))
    return award


def contracts_of(tender: Tender) -> QuerySet[Contract]:
    return Contract.objects.filter(tender=tender).select_related("award", "award__lot", "award__bid__bidder")


def live_session_of_lot(lot) -> EvaluationSession | None:
    return EvaluationSession.objects.filter(lot=lot).exclude(status=SessionStatus.CANCELLED).first()


def expert_sessions(user) -> list[dict]:
    """For the expert workspace: sessions of the lots the expert was drawn for, with the member row."""
    out = []
    for session in sessions_for(user).filter(Q(members__user_id=user.pk) | Q(draw_id__in=_expert_draw_ids(user))):
        out.append({"session": session, "member": member_of(user, session),
                    "seat": sources.seat_of(session.draw_id, user) if session.draw_id else None})
    return out
