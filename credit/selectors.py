"""Read side of credit records: the public query (by organisation name or USCC) and the supervisor's lists."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.policy import can
from config.errors import NotFoundError
from credit.models import CreditRecord, RecordStatus
from credit.services import counting


def records_public(*, q: str = "", at: datetime | None = None) -> QuerySet[CreditRecord]:
    """Records in their publication period (published, not revoked or repaired), matching `q`: an
    exact unified social credit code, or part of the subject's name."""
    qs = counting(CreditRecord.objects.all(), at or timezone.now())
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(subject_uscc=q.upper()) | Q(subject_name__icontains=q))
    return qs.order_by("-published_from", "-pk")


def records_for(user, *, q: str = "", status: str = "", at: datetime | None = None) -> QuerySet[CreditRecord]:
    """Supervisors see every record (optionally by status); everyone else the public query."""
    if not can(user, "credit.view_all"):
        return records_public(q=q, at=at)
    qs = CreditRecord.objects.all()
    if status:
        qs = qs.filter(status=status)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(subject_uscc=q.upper()) | Q(subject_name__icontains=q))
    return qs.order_by("-proposed_at", "-pk")


def record_visible(user, record: CreditRecord, at: datetime | None = None) -> bool:
    if can(user, "credit.view_all"):
        return True
    if record.organisation_id and getattr(user, "organisation_id", None) == record.organisation_id \
            and record.status != RecordStatus.PROPOSED:
        return True
    return counting(CreditRecord.objects.filter(pk=record.pk), at or timezone.now()).exists()


def record_get(user, number: str, at: datetime | None = None) -> CreditRecord:
    record = CreditRecord.objects.filter(number=number).select_related("organisation").first()
    if record is None or not record_visible(user, record, at):
        raise NotFoundError("No published credit record with this number.")
    return record
