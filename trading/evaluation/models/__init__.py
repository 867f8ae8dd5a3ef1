"""Evaluation, candidate publicity, objections, complaints, award and contract."""

from trading.evaluation.models.award import Award, AwardStatus, Contract
from trading.evaluation.models.criteria import Criterion, CriterionKind
from trading.evaluation.models.publicity import (
    CandidatePublicity,
    Complaint,
    ComplaintDecision,
    ComplaintStatus,
    ObjectionOutcome,
    PublicityObjection,
    PublicityObjectionStatus,
)
from trading.evaluation.models.report import EvaluationReport, ReportSignature, ReportStatus
from trading.evaluation.models.session import (
    CommitteeMember,
    EvaluationBid,
    EvaluationSession,
    MemberStatus,
    QualificationMark,
    Score,
    SessionStatus,
    SheetSubmission,
)

__all__ = [
    "Award",
    "AwardStatus",
    "CandidatePublicity",
    "CommitteeMember",
    "Complaint",
    "ComplaintDecision",
    "ComplaintStatus",
    "Contract",
    "Criterion",
    "CriterionKind",
    "EvaluationBid",
    "EvaluationReport",
    "EvaluationSession",
    "MemberStatus",
    "ObjectionOutcome",
    "PublicityObjection",
    "PublicityObjectionStatus",
    "QualificationMark",
    "ReportSignature",
    "ReportStatus",
    "Score",
    "SessionStatus",
    "SheetSubmission",
]
