"""Scheduled steps of the evaluation (trading/steps.py registry, swept by trading's beat task).

Each records, once, that a legal time limit passed without the action it requires: a red
warning for supervisors in the audit chain. None of them acts in anyone's place.
"""

from __future__ import annotations

from audit.services import audit_record
from trading.evaluation.models import (
    Award,
    AwardStatus,
    CandidatePublicity,
    Complaint,
    ComplaintStatus,
    EvaluationReport,
    PublicityObjection,
    PublicityObjectionStatus,
    ReportStatus,
)
from trading.evaluation.services.award import CONTRACT_DUE
from trading.evaluation.services.publicity import COMPLAINT_ACCEPT_DUE, COMPLAINT_DECISION_DUE, OBJECTION_REPLY_DUE
from trading.evaluation.services.reports import PUBLICITY_DUE
from trading.services.tender_status import lock_tender
from trading.steps import step_handler


def _pk(step) -> int:
    return int(step.subject.rsplit(":", 1)[1])


@step_handler(PUBLICITY_DUE)
def publicity_due(step):
    """3 days after the final report: the candidates must have been published (实施条例 Art 54)."""
    report = EvaluationReport.objects.select_related("tender").get(pk=_pk(step))
    lock_tender(report.tender)
    published = any(
        any(lot["report"] == report.pk for lot in p.content.get("lots", []))
        for p in CandidatePublicity.objects.filter(tender=report.tender)
    )
    if published or report.status != ReportStatus.FINAL:
        return "skipped: published" if published else f"skipped: report {report.status}"
    audit_record(
        actor="system",
        action="evaluation_report.publicity_overdue",
        obj=report,
        data={"tender": report.tender_id, "lot": report.session.lot_id, "report": report.pk,
              "publish_by": report.publish_by},
    )
    return "overdue recorded"


@step_handler(OBJECTION_REPLY_DUE)
def objection_reply_due(step):
    objection = PublicityObjection.objects.select_related("tender").get(pk=_pk(step))
    lock_tender(objection.tender)
    if objection.status != PublicityObjectionStatus.OPEN:
        return "skipped: replied"
    audit_record(
        actor="system",
        action="publicity_objection.reply_overdue",
        obj=objection,
        data={"tender": objection.tender_id, "objection": objection.pk, "reply_due_at": objection.reply_due_at},
    )
    return "overdue recorded"


@step_handler(CONTRACT_DUE)
def contract_due(step):
    """30 days after the award notice without a contract (招标投标法 Art 46)."""
    award = Award.objects.select_related("tender").get(pk=_pk(step))
    lock_tender(award.tender)
    if award.status != AwardStatus.ACTIVE:
        return f"skipped: {award.status}"
    audit_record(
        actor="system",
        action="award.contract_overdue",
        obj=award,
        data={"tender": award.tender_id, "lot": award.lot_id, "award": award.pk,
              "contract_due_at": award.contract_due_at},
    )
    return "overdue recorded"


@step_handler(COMPLAINT_ACCEPT_DUE)
def complaint_accept_due(step):
    complaint = Complaint.objects.select_related("tender").get(pk=_pk(step))
    lock_tender(complaint.tender)
    if complaint.status != ComplaintStatus.FILED:
        return f"skipped: {complaint.status}"
    audit_record(
        actor="system",
        action="complaint.acceptance_overdue",
        obj=complaint,
        data={"tender": complaint.tender_id, "complaint": complaint.pk, "accept_due_at": complaint.accept_due_at},
    )
    return "overdue recorded"


@step_handler(COMPLAINT_DECISION_DUE)
def complaint_decision_due(step):
    complaint = Complaint.objects.select_related("tender").get(pk=_pk(step))
    lock_tender(complaint.tender)
    if complaint.status != ComplaintStatus.ACCEPTED:
        return f"skipped: {complaint.status}"
    audit_record(
        actor="system",
        action="complaint.decision_overdue",
        obj=complaint,
        data={"tender": complaint.tender_id, "complaint": complaint.pk, "decide_due_at": complaint.decide_due_at},
    )
    return "overdue recorded"
