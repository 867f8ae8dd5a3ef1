"""The evaluation report (评标报告, 实施条例 Art 53): generated from the submitted (signed) sheets,
signed by every member (agreement or written dissent), final when all have signed.

The report content is canonical JSON; its SHA-256 is written to the audit chain when it is
generated and when it becomes final, together with the hashes of the members' signatures.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from audit.canonical import normalize
from audit.services import audit_record
from audit.signing import sign_receipt
from config.errors import NotPermitted, RuleViolation, StateConflict
from trading import clock
from trading.evaluation import ranking
from trading.evaluation.models import (
    CommitteeMember,
    Criterion,
    EvaluationBid,
    EvaluationReport,
    EvaluationSession,
    MemberStatus,
    ReportSignature,
    ReportStatus,
    SessionStatus,
)
from trading.evaluation.rules import REPORT_SIGNED_BY_ALL, evaluation_rules
from trading.evaluation.services.common import clean_text, sha256_json, sha256_text, subject
from trading.evaluation.services.sessions import bids_snapshot, lock_session, session_data, submitted
from trading.services.scheduling import step_schedule

PUBLICITY_DUE = "evaluation_publicity_due"

AGGREGATION = (
    "Qualification: a bid passes when more than half of the sheets pass it. Lowest evaluated price: qualified "
    "bids by read-out price, lowest first. Comprehensive scoring: price criterion = max x lowest qualified "
    "price / price (2 decimals, half-up); committee score = price score + the mean of the members' sums of "
    "scored criteria (2 decimals, half-up)."
)


def _sheets(session: EvaluationSession) -> tuple[list[CommitteeMember], list]:
    members = list(session.members.filter(status=MemberStatus.ACTIVE).order_by("seat"))
    return members, [submitted(m) for m in members]


def _ranking_sheet(submission) -> ranking.Sheet:
    content = submission.content
    return ranking.Sheet(
        member=int(content["seat"]),
        marks={int(m["bid"]): ranking.Mark(bool(m["passed"]), m.get("reason") or "") for m in content["marks"]},
        scores={(int(s["bid"]), int(s["criterion"])): Decimal(s["points"]) for s in content["scores"]},
    )


def _bid_row(bid: EvaluationBid) -> dict:
    return {"bid": bid.pk, "bidder": bid.bidder_id, "bidder_name": bid.bidder.name, "price": bid.price}


def _ranked_row(r: ranking.Ranked, bid: EvaluationBid, method: str) -> dict:
    row = {"rank": r.rank, **_bid_row(bid)}
    if method == ranking.COMPREHENSIVE_SCORING:
        row.update(
            score=r.score,
            price_score=r.price_score,
            scored_mean=r.scored_mean,
            member_totals=[{"seat": seat, "total": total} for seat, total in r.member_totals],
            criterion_means=[{"criterion": c, "mean": m} for c, m in r.criterion_means],
        )
        if r.credit_score is not None:
            row["credit_score"] = r.credit_score
    return row


def _outcome_rows(outcome: ranking.Outcome, by_id: dict[int, EvaluationBid], method: str) -> dict:
    """The qualification, the ranking, the candidates (with their read-out) and the rejections."""
    return {
        "qualification": [
            {**_bid_row(by_id[q.bid]), "passed": q.passed, "passes": q.passes, "fails": q.fails,
             "reasons": list(q.reasons)}
            for q in outcome.qualification.values()
        ],
        "ranking": [_ranked_row(r, by_id[r.bid], method) for r in outcome.ranking],
        "candidates": [
            {**_ranked_row(r, by_id[r.bid], method), "readout": by_id[r.bid].readout}
            for r in outcome.candidates
        ],
        "rejections": [{**_bid_row(by_id[q.bid]), "reasons": list(q.reasons)} for q in outcome.rejected],
    }


def _panel_rows(session: EvaluationSession, members, submissions) -> dict:
    """The members whose sheets count (with their sheets) and the members whose seats were voided."""
    voided = session.members.exclude(status=MemberStatus.ACTIVE).order_by("seat", "signed_in_at")
    return {
        "members": [
            {
                "seat": m.seat,
                "expert": m.expert_id,
                "name": m.name,
                "expert_hash": m.expert_hash,
                "sheet_sha256": s.sha256,
                "submitted_at": s.submitted_at,
                "receipt": s.receipt,
            }
            for m, s in zip(members, submissions, strict=True)
        ],
        "sheets": [s.content for s in submissions],
        "voided_members": [
            {"seat": m.seat, "expert_hash": m.expert_hash, "status": m.status, "reason": m.end_reason} for m in voided
        ],
    }


def report_content(session: EvaluationSession, *, version: int, members, submissions, now) -> dict:
    """The report of one version: the bids, the criteria, the panel and its sheets, the outcome of
    `ranking.evaluate` and the rules applied (what is hashed, signed and, in part, published)."""
    tender, lot = session.tender, session.lot
    rules = evaluation_rules(tender.procedure_type)
    bids = list(session.bids.select_related("bidder").order_by("received_at", "pk"))
    criteria = list(Criterion.objects.filter(tender=tender).order_by("number"))
    outcome = ranking.evaluate(
        method=session.method,
        bids=[ranking.BidFacts(b.pk, b.price, b.received_at, b.envelope_sha256, b.bidder.name,
                               Decimal(b.credit["score"]) if b.credit else None) for b in bids],
        sheets=[_ranking_sheet(s) for s in submissions],
        criteria=[ranking.Criterion(c.pk, c.name, c.max_points, c.kind) for c in criteria],
        max_candidates=int(rules.max_candidates.value),
    )
    return {
        "tender": tender.pk,
        "tender_code": tender.code,
        "tender_title": tender.title,
        "lot": lot.pk,
        "lot_number": lot.number,
        "lot_title": lot.title,
        "session": session.pk,
        "version": version,
        "round": session.round,
        "method": session.method,
        "generated_at": now,
        "bids_sha256": session.bids_sha256,
        "bids": bids_snapshot(session),
        "criteria": [
            {"criterion": c.pk, "number": c.number, "name": c.name, "kind": c.kind, "max_points": c.max_points}
            for c in criteria
        ],
        **_panel_rows(session, members, submissions),
        **_outcome_rows(outcome, {b.pk: b for b in bids}, session.method),
        "rules": {
            "max_candidates": {"value": int(rules.max_candidates.value), "source": rules.max_candidates.source},
            "aggregation": AGGREGATION,
            "tie_break": ranking.TIE_BREAK,
        },
    }


def report_generate_if_complete(*, session: EvaluationSession) -> EvaluationReport | None:
    """Generate the next report version when every seat's active member has submitted this round.
    Called by `sheet_submit` under the session lock."""
    if session.status != SessionStatus.OPEN:
        return None
    members, submissions = _sheets(session)
    if len(members) < session.seats or any(s is None for s in submissions):
        return None
    now = clock.now()
    version = (session.reports.aggregate(v=Max("version"))["v"] or 0) + 1
    try:
        content = normalize(report_content(session, version=version, members=members, submissions=submissions, now=now))
    except ranking.RankingError as exc:  # a submitted sheet is incomplete: a bug upstream, refuse loudly
        raise StateConflict(str(exc), code="ranking_error") from exc
    report = EvaluationReport.objects.create(
        session=session,
        tender=session.tender,
        version=version,
        round=session.round,
        content=content,
        sha256=sha256_json(content),
        generated_at=now,
    )
    session.status = SessionStatus.SIGNING
    session.save(update_fields=["status"])
    audit_record(
        actor="system",
        action="evaluation_report.generated",
        obj=report,
        data={**session_data(session), "report": report.pk, "version": version, "round": session.round,
              "sha256": report.sha256, "sheets": [s.sha256 for s in submissions]},
    )
    return report


def current_report(session: EvaluationSession) -> EvaluationReport | None:
    return session.reports.exclude(status=ReportStatus.SUPERSEDED).order_by("-version").first()


@transaction.atomic
def report_sign(*, actor, report: EvaluationReport, agrees: bool = True, dissent: str = "") -> ReportSignature:
    """A member signs the report: agreement, or disagreement with the written reasons that the report
    then notes (实施条例 Art 53). When every member has signed, the report is final."""
    session = lock_session(report.session)
    report = EvaluationReport.objects.select_for_update().get(pk=report.pk)
    member = session.members.filter(user_id=getattr(actor, "pk", None), status=MemberStatus.ACTIVE).first()
    if member is None:
        raise NotPermitted(_("Only the committee's members sign its report."), code="not_a_member")
    if report.status != ReportStatus.SIGNING or session.status != SessionStatus.SIGNING:
        raise StateConflict(_("This report version is not awaiting signatures."), code="not_signing")
    if report.signatures.filter(member=member).exists():
        raise StateConflict(_("You have already signed this report."), code="already_signed")
    dissent = clean_text(dissent, "dissent", required=False, limit=5000)
    if not agrees and not dissent:
        raise RuleViolation(
            _("A member who disagrees states the reasons in writing (%(src)s).") % {"src": REPORT_SIGNED_BY_ALL},
            code="dissent_required",
        )
    now = clock.now()
    receipt = sign_receipt(
        {
            "kind": "evaluation_report_signature",
            **session_data(session),
            "report_sha256": report.sha256,
            "version": report.version,
            "seat": member.seat,
            "expert_hash": member.expert_hash,
            "agrees": agrees,
            "dissent_sha256": sha256_text(dissent) if dissent else None,
            "signed_at": now,
        }
    )
    signature = ReportSignature.objects.create(
        report=report, member=member, signed_at=now, agrees=agrees, dissent=dissent, receipt=receipt
    )
    audit_record(
        actor=actor,
        action="evaluation_report.signed",
        obj=report,
        data={**session_data(session), "report": report.pk, "version": report.version, "report_sha256": report.sha256,
              "seat": member.seat, "expert_hash": member.expert_hash, "agrees": agrees,
              "dissent_sha256": sha256_text(dissent) if dissent else None,
              "signature_sha256": sha256_text(receipt["signature"])},
    )
    active = session.members.filter(status=MemberStatus.ACTIVE).count()
    if report.signatures.count() >= active:
        _finalize(session, report, now)
    return signature


def _finalize(session: EvaluationSession, report: EvaluationReport, now) -> None:
    rules = evaluation_rules(session.tender.procedure_type)
    report.status, report.finalized_at = ReportStatus.FINAL, now
    report.publish_by = rules.publish_within.after(now)
    report.save(update_fields=["status", "finalized_at", "publish_by"])
    session.status, session.concluded_at = SessionStatus.CONCLUDED, now
    session.save(update_fields=["status", "concluded_at"])
    signatures = list(report.signatures.select_related("member").order_by("member__seat"))
    audit_record(
        actor="system",
        action="evaluation_report.finalized",
        obj=report,
        data={
            **session_data(session),
            "report": report.pk,
            "version": report.version,
            "round": report.round,
            "sha256": report.sha256,
            "signatures": [
                {"seat": s.member.seat, "expert_hash": s.member.expert_hash, "agrees": s.agrees,
                 "signature_sha256": sha256_text(s.receipt["signature"])}
                for s in signatures
            ],
            "publish_by": report.publish_by,
            "source": rules.publish_within.source,
        },
    )
    step_schedule(
        kind=PUBLICITY_DUE, subject=subject(report), due_at=report.publish_by, tender=session.tender, lot=session.lot
    )


# --- what each reader sees of a report ------------------------------------------------------------

FULL, SUMMARY, PUBLIC = "full", "summary", "public"


def report_view(report: EvaluationReport, level: str) -> dict:
    """The report content at a sealing level: full (everything), summary (no individual scores or
    sheets), public (candidates and rejections, as in the publicity)."""
    content = dict(report.content)
    head = {
        "report": report.pk,
        "version": report.version,
        "status": report.status,
        "sha256": report.sha256,
        "generated_at": report.generated_at,
        "finalized_at": report.finalized_at,
    }
    if level == FULL:
        return {**head, "content": content}
    strip = ("member_totals",)
    summary = {
        k: content.get(k)
        for k in ("tender", "tender_code", "lot", "lot_number", "lot_title", "method", "round", "criteria", "rules")
    }
    summary["candidates"] = [{k: v for k, v in c.items() if k not in strip} for c in content.get("candidates", [])]
    summary["rejections"] = content.get("rejections", [])
    if level == SUMMARY:
        summary["ranking"] = [{k: v for k, v in r.items() if k not in strip} for r in content.get("ranking", [])]
        summary["qualification"] = content.get("qualification", [])
    return {**head, "content": summary}
