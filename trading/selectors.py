"""Reads of the trading app. Sealing is applied by trading/visibility.py."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.policy import can
from audit.models import Receipt
from config.errors import NotFoundError
from trading import clock
from trading.models import (
    RESULT_KINDS,
    Lot,
    Notice,
    Objection,
    ObjectionStatus,
    Question,
    Registration,
    Tender,
    TenderDocument,
    TenderStatus,
)

RESULT_NOTICE_KINDS = RESULT_KINDS


def tender_get(*, user, pk) -> Tender:
    """The tender if `user` may see it; a draft of someone else is simply not found."""
    try:
        tender = Tender.objects.select_related("tenderer", "agent").get(pk=int(pk))
    except (Tender.DoesNotExist, TypeError, ValueError):
        raise NotFoundError(_("No such tender.")) from None
    if not can(user, "tender.view", tender):
        raise NotFoundError(_("No such tender."))
    return tender


def lot_get(*, user, pk) -> Lot:
    try:
        lot = Lot.objects.select_related("tender", "tender__tenderer", "tender__agent").get(pk=int(pk))
    except (Lot.DoesNotExist, TypeError, ValueError):
        raise NotFoundError(_("No such lot.")) from None
    if not can(user, "tender.view", lot.tender):
        raise NotFoundError(_("No such lot."))
    return lot


def _get_visible(model, user, pk, label):
    try:
        obj = model.objects.select_related("tender").get(pk=int(pk))
    except (model.DoesNotExist, TypeError, ValueError):
        raise NotFoundError(_("No such %(what)s.") % {"what": label}) from None
    if not can(user, "tender.view", obj.tender):
        raise NotFoundError(_("No such %(what)s.") % {"what": label})
    return obj


def document_get(*, user, pk) -> TenderDocument:
    return _get_visible(TenderDocument, user, pk, "document")


def question_get(*, user, pk) -> Question:
    return _get_visible(Question, user, pk, "question")


def objection_get(*, user, pk) -> Objection:
    return _get_visible(Objection, user, pk, "objection")


def registration_get(*, user, public_id) -> Registration:
    """The registration with this public id (UUID) if `user` may see it; 404 alike for one that does
    not exist and one that is not the user's (docs/tendering.md, "Public identifiers")."""
    try:
        reg = Registration.objects.select_related("lot", "tender", "bidder").get(public_id=public_id)
    except (Registration.DoesNotExist, TypeError, ValueError, ValidationError):
        raise NotFoundError(_("No such registration.")) from None
    if not can(user, "registration.view", reg):
        raise NotFoundError(_("No such registration."))
    return reg


def notice_get(*, pk) -> Notice:
    try:
        return Notice.objects.select_related("tender").get(pk=int(pk))
    except (Notice.DoesNotExist, TypeError, ValueError):
        raise NotFoundError(_("No such notice.")) from None


def tenders_public(*, q: str = "", procedure_type: str = "", status: str = "") -> QuerySet[Tender]:
    qs = Tender.objects.exclude(status=TenderStatus.DRAFT).select_related("tenderer", "agent")
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(code__icontains=q) | Q(description__icontains=q) | Q(tenderer__name__icontains=q)
        )
    if procedure_type:
        qs = qs.filter(procedure_type=procedure_type)
    if status:
        qs = qs.filter(status=status)
    return qs


def tenders_for_user(*, user, q: str = "", procedure_type: str = "", status: str = "") -> QuerySet[Tender]:
    """Public tenders plus the drafts of the user's own organisation (as agent or tenderer)."""
    qs = tenders_public(q=q, procedure_type=procedure_type, status=status)
    org_id = getattr(user, "organisation_id", None)
    if org_id and (status in ("", TenderStatus.DRAFT)):
        drafts = Tender.objects.filter(status=TenderStatus.DRAFT).filter(Q(agent_id=org_id) | Q(tenderer_id=org_id))
        if q:
            drafts = drafts.filter(Q(title__icontains=q) | Q(code__icontains=q))
        if procedure_type:
            drafts = drafts.filter(procedure_type=procedure_type)
        qs = (qs | drafts).distinct() if status == "" else drafts
    return qs.select_related("tenderer", "agent")


def tenders_of_org(*, org_id) -> QuerySet[Tender]:
    """The tenders an organisation runs as agent or owns as tenderer (workspace)."""
    return Tender.objects.filter(Q(agent_id=org_id) | Q(tenderer_id=org_id)).select_related("tenderer", "agent")


def tenders_open_for_bidding() -> QuerySet[Tender]:
    return (
        Tender.objects.filter(status=TenderStatus.PUBLISHED, bid_deadline__gt=clock.now())
        .select_related("tenderer", "agent")
        .order_by("bid_deadline")
    )


def notice_receipt(*, user, notice: Notice) -> dict | None:
    """The signed publication receipt of `notice` if `user`'s organisation (or `user`) holds it
    (docs/audit.md, "Receipts"); None for everyone else."""
    if not getattr(user, "is_authenticated", False):
        return None
    holder = Q(holder_user_id=user.pk)
    if user.organisation_id is not None:
        holder |= Q(holder_org_id=user.organisation_id)
    receipt = (Receipt.objects.filter(holder, signed__receipt__notice=str(notice.pk),
                                      signed__receipt__receipt_type="notice.published")
               .order_by("seq").first())
    return receipt.signed if receipt is not None else None


def notices_public(
    *, q: str = "", kind: str = "", procedure_type: str = "", status: str = "", tender_id=None, kinds=None
) -> QuerySet[Notice]:
    qs = Notice.objects.select_related("tender", "tender__tenderer")
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(body__icontains=q)
            | Q(tender__code__icontains=q)
            | Q(tender__tenderer__name__icontains=q)
        )
    if kind:
        qs = qs.filter(kind=kind)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if procedure_type:
        qs = qs.filter(tender__procedure_type=procedure_type)
    if status:
        qs = qs.filter(tender__status=status)
    if tender_id:
        qs = qs.filter(tender_id=tender_id)
    return qs


def documents_of(*, tender: Tender, include_superseded: bool = False) -> QuerySet[TenderDocument]:
    qs = TenderDocument.objects.filter(tender=tender).order_by("name", "-version")
    return qs if include_superseded else qs.filter(superseded=False)


def registrations_of_org(*, org_id) -> QuerySet[Registration]:
    return Registration.objects.filter(bidder_id=org_id).select_related("lot", "tender").order_by("-created_at")


def questions_of_org(*, org_id) -> QuerySet[Question]:
    return Question.objects.filter(asked_by_org_id=org_id).select_related("tender").order_by("-asked_at")


def objections_of_org(*, org_id) -> QuerySet[Objection]:
    return Objection.objects.filter(raised_by_org_id=org_id).select_related("tender").order_by("-raised_at")


def objections_overdue(*, at=None) -> QuerySet[Objection]:
    """Open objections whose reply is late (a warning for supervisors)."""
    return (
        Objection.objects.filter(status=ObjectionStatus.OPEN, reply_due_at__lt=at or clock.now())
        .select_related("tender", "raised_by_org", "raised_by")
        .order_by("reply_due_at")
    )


def objections_open_for_tender(*, tender: Tender) -> QuerySet[Objection]:
    return Objection.objects.filter(tender=tender, status=ObjectionStatus.OPEN)
