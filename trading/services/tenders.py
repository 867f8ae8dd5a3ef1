"""Tenders and lots: drafting, the publish-time rule check, publication, cancellation of drafts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.policy import authorize
from audit.services import audit_record
from config.errors import DomainError, RuleViolation, StateConflict
from trading import clock
from trading.bids.ceremony import opening_keys_create
from trading.models import READOUT_ITEMS, Lot, NoticeKind, Tender, TenderDocument, TenderStatus
from trading.models.tender import CODE_PREFIX
from trading.rules import acceleration
from trading.services.notices import notice_publish
from trading.services.scheduling import step_schedule
from trading.services.tender_status import illegal_transition, lock_tender, tender_transition
from trading.steps import BID_DEADLINE

TENDER_FIELDS = (
    "title",
    "description",
    "tenderer",
    "procedure_type",
    "evaluation_method",
    "readout_items",
    "decryption_window_minutes",
    "confirmation_window_minutes",
    "bid_deadline",
    "documents_available_until",
)
LOT_FIELDS = ("title", "estimated_price", "deposit_amount", "max_envelope_bytes")


def _fmt(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def normalize_readout_items(items) -> list[str]:
    """ "price" first and always; then the chosen items, known keys only, no duplicates."""
    if items is None:
        items = []
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise DomainError(_("Read-out items must be a list of item keys."), fields={"readout_items": ["not a list"]})
    unknown = [i for i in items if i not in READOUT_ITEMS]
    if unknown:
        raise DomainError(
            f"Unknown read-out items: {', '.join(unknown)}.",
            fields={"readout_items": [f"unknown: {', '.join(unknown)}"]},
        )
    out = ["price"]
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _validation_error(exc: ValidationError) -> DomainError:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    first = next(iter(fields.items()))
    return DomainError(f"{first[0]}: {first[1][0]}", fields=fields)


def _full_clean(obj, exclude=None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise _validation_error(exc) from None


def _require_draft(tender: Tender) -> None:
    if tender.status != TenderStatus.DRAFT:
        raise StateConflict(
            _("Tender %(code)s is %(status)s: only a draft can be edited; publish an amendment instead.")
            % {"code": tender.code, "status": tender.get_status_display()},
            code="not_draft",
        )


def _check_times(*, bid_deadline: datetime, documents_available_until: datetime | None) -> None:
    now = clock.now()
    if bid_deadline <= now:
        raise DomainError(_("The bid deadline must be in the future."), fields={"bid_deadline": ["in the past"]})
    if documents_available_until is not None and documents_available_until <= now:
        raise DomainError(
            "The documents must stay available until a future time.",
            fields={"documents_available_until": ["in the past"]},
        )


@transaction.atomic
def tender_create(
    *,
    actor,
    title: str,
    tenderer: Organisation,
    procedure_type: str,
    bid_deadline: datetime,
    description: str = "",
    evaluation_method: str = "lowest_evaluated_price",
    readout_items=None,
    decryption_window_minutes: int = 30,
    confirmation_window_minutes: int = 15,
    documents_available_until: datetime | None = None,
) -> Tender:
    authorize(actor, "tender.create")
    _check_times(bid_deadline=bid_deadline, documents_available_until=documents_available_until)
    tender = Tender(
        code=f"TMP-{uuid.uuid4().hex}",
        title=title,
        description=description,
        tenderer=tenderer,
        agent_id=actor.organisation_id,
        created_by=actor,
        procedure_type=procedure_type,
        evaluation_method=evaluation_method,
        readout_items=normalize_readout_items(readout_items),
        decryption_window_minutes=decryption_window_minutes,
        confirmation_window_minutes=confirmation_window_minutes,
        bid_deadline=bid_deadline,
        documents_available_until=documents_available_until,
    )
    _full_clean(tender, exclude=["code"])
    tender.save()
    tender.code = f"{CODE_PREFIX[tender.procedure_type]}-{timezone.localdate(clock.now()):%Y%m%d}-{tender.pk:05d}"
    tender.save(update_fields=["code"])
    audit_record(
        actor=actor,
        action="tender.created",
        obj=tender,
        data={
            "tender": tender.pk,
            "code": tender.code,
            "title": tender.title,
            "tenderer": tender.tenderer_id,
            "agent": tender.agent_id,
            "procedure_type": tender.procedure_type,
            "bid_deadline": tender.bid_deadline,
        },
    )
    return tender


@transaction.atomic
def tender_update(*, actor, tender: Tender, **changes) -> Tender:
    authorize(actor, "tender.edit", tender)
    lock_tender(tender)
    _require_draft(tender)
    unknown = set(changes) - set(TENDER_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    if "readout_items" in changes:
        changes["readout_items"] = normalize_readout_items(changes["readout_items"])
    for field, value in changes.items():
        setattr(tender, field, value)
    if "bid_deadline" in changes or "documents_available_until" in changes:
        _check_times(bid_deadline=tender.bid_deadline, documents_available_until=tender.documents_available_until)
    _full_clean(tender)
    tender.save()
    data = {"tender": tender.pk, "fields": sorted(changes)}
    for key in ("bid_deadline", "documents_available_until", "procedure_type", "title"):
        if key in changes:
            data[key] = getattr(tender, key)
    if "tenderer" in changes:
        data["tenderer"] = tender.tenderer_id
    audit_record(actor=actor, action="tender.updated", obj=tender, data=data)
    return tender


@transaction.atomic
def tender_cancel_draft(*, actor, tender: Tender, reason: str = "") -> Tender:
    """Withdraw a draft (a published tender is terminated by a termination notice instead)."""
    authorize(actor, "tender.edit", tender)
    lock_tender(tender)
    _require_draft(tender)
    return tender_transition(actor=actor, tender=tender, to=TenderStatus.CANCELLED, reason=reason or "draft withdrawn")


# --- lots ----------------------------------------------------------------------------------


@transaction.atomic
def lot_create(
    *,
    actor,
    tender: Tender,
    title: str,
    estimated_price: Decimal,
    deposit_amount: Decimal = Decimal(0),
    max_envelope_bytes: int | None = None,
) -> Lot:
    authorize(actor, "tender.edit", tender)
    lock_tender(tender)
    _require_draft(tender)
    number = (tender.lots.aggregate(n=Max("number"))["n"] or 0) + 1
    lot = Lot(tender=tender, number=number, title=title, estimated_price=estimated_price, deposit_amount=deposit_amount)
    if max_envelope_bytes is not None:
        lot.max_envelope_bytes = max_envelope_bytes
    _full_clean(lot)
    lot.save()
    audit_record(
        actor=actor,
        action="lot.created",
        obj=lot,
        data={
            "tender": tender.pk,
            "lot": lot.pk,
            "number": lot.number,
            "title": lot.title,
            "estimated_price": lot.estimated_price,
            "deposit_amount": lot.deposit_amount,
        },
    )
    return lot


@transaction.atomic
def lot_update(*, actor, lot: Lot, **changes) -> Lot:
    tender = lot.tender
    authorize(actor, "tender.edit", tender)
    lock_tender(tender)
    _require_draft(tender)
    unknown = set(changes) - set(LOT_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    for field, value in changes.items():
        setattr(lot, field, value)
    _full_clean(lot)
    lot.save()
    audit_record(
        actor=actor,
        action="lot.updated",
        obj=lot,
        data={
            "tender": tender.pk,
            "lot": lot.pk,
            "fields": sorted(changes),
            **{k: getattr(lot, k) for k in changes},
        },
    )
    return lot


@transaction.atomic
def lot_delete(*, actor, lot: Lot) -> None:
    tender = lot.tender
    authorize(actor, "tender.edit", tender)
    lock_tender(tender)
    _require_draft(tender)
    ref, number, pk = f"trading.lot:{lot.pk}", lot.number, lot.pk
    lot.delete()
    audit_record(actor=actor, action="lot.deleted", obj=ref, data={"tender": tender.pk, "lot": pk, "number": number})


# --- the publish-time rule check -----------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    rule: str  # machine name, e.g. "documents_to_deadline"
    field: str  # the input it concerns, e.g. "bid_deadline" or "lots.2.deposit_amount"
    message: str  # human sentence including the legal source
    source: str = ""


def _form_problems(tender: Tender, lots: list, at: datetime) -> list[Problem]:
    """Lots, documents, a deadline in the future."""
    problems = []
    if not lots:
        problems.append(Problem("lots_required", "lots", _("A tender needs at least one lot (标段).")))
    if not TenderDocument.objects.filter(tender=tender, superseded=False).exists():
        problems.append(
            Problem(
                "documents_required",
                "documents",
                _("Upload the tender documents before publishing (招标投标法 Art 19)."),
                "招标投标法 Art 19",
            )
        )
    if tender.bid_deadline <= at:
        problems.append(Problem("deadline_in_future", "bid_deadline", _("The bid deadline must be in the future.")))
    return problems


def _period_problems(tender: Tender, at: datetime) -> list[Problem]:
    """The legal minimum periods: documents to deadline, documents' availability."""
    problems = []
    rules = tender.rules
    rule = rules.documents_to_deadline
    earliest = rule.after(at)
    if tender.bid_deadline < earliest:
        problems.append(
            Problem(
                "documents_to_deadline",
                "bid_deadline",
                _(
                    "At least %(n)s must pass from the issue of the tender documents to the bid deadline; "
                    "the earliest allowed deadline is %(t)s (%(src)s)."
                )
                % {"n": rule.display(), "t": _fmt(earliest), "src": rule.source},
                rule.source,
            )
        )
    rule = rules.documents_available
    available_until = tender.documents_available_until or tender.bid_deadline
    earliest = rule.after(at)
    if available_until < earliest:
        problems.append(
            Problem(
                "documents_available",
                "documents_available_until",
                _("The tender documents must be available for at least %(n)s, until %(t)s or later (%(src)s).")
                % {"n": rule.display(), "t": _fmt(earliest), "src": rule.source},
                rule.source,
            )
        )
    return problems


def _deposit_problems(tender: Tender, lot) -> list[Problem]:
    """A lot's deposit within the percentage of its estimated price and the procedure's cap."""
    problems = []
    rules = tender.rules
    percent = rules.deposit_max_percent
    limit = rules.deposit_percent_limit(lot.estimated_price)
    if lot.deposit_amount > limit:
        problems.append(
            Problem(
                "deposit_max_percent",
                f"lots.{lot.number}.deposit_amount",
                _(
                    "Lot %(lot)s: the deposit %(d)s CNY exceeds %(p)s of the estimated price (at most %(m)s CNY) "
                    "(%(src)s)."
                )
                % {
                    "lot": lot.number,
                    "d": lot.deposit_amount,
                    "p": percent.display(),
                    "m": limit,
                    "src": percent.source,
                },
                percent.source,
            )
        )
    cap = rules.deposit_cap
    if cap is not None and lot.deposit_amount > Decimal(cap.value):
        problems.append(
            Problem(
                "deposit_cap",
                f"lots.{lot.number}.deposit_amount",
                _("Lot %(lot)s: the deposit %(d)s CNY exceeds the cap of %(m)s CNY (%(src)s).")
                % {"lot": lot.number, "d": lot.deposit_amount, "m": cap.value, "src": cap.source},
                cap.source,
            )
        )
    return problems


PublishCheck = Callable[[Tender], list[Problem]]
PUBLISH_CHECKS: list[PublishCheck] = []


def publish_check(check: PublishCheck) -> PublishCheck:
    """Register a rule that the layers above trading add to `publish_problems` (the evaluation app
    registers the comprehensive-scoring criteria check from its AppConfig: trading core never
    imports trading.evaluation; docs/architecture.md, "Layers")."""
    if check not in PUBLISH_CHECKS:
        PUBLISH_CHECKS.append(check)
    return check


def publish_problems(tender: Tender, *, at: datetime | None = None) -> list[Problem]:
    """Every rule the tender breaks if published at `at` (default: now). Empty = publishable."""
    at = at or clock.now()
    lots = list(tender.lots.all())
    problems = _form_problems(tender, lots, at) + _period_problems(tender, at)
    for lot in lots:
        problems += _deposit_problems(tender, lot)
    for check in PUBLISH_CHECKS:
        problems += check(tender)
    return problems


def problems_error(problems: list[Problem]) -> RuleViolation:
    fields: dict[str, list[str]] = {}
    for p in problems:
        fields.setdefault(p.field, []).append(p.message)
    message = _("The tender cannot be published: %(list)s") % {"list": " ".join(p.message for p in problems)}
    return RuleViolation(message, code="rule_violation", fields=fields)


def tender_notice_body(tender: Tender, extra: str = "") -> str:
    lines = [
        tender.description.strip(),
        "",
        _("Tender code: %(code)s") % {"code": tender.code},
        _("Tenderer: %(name)s") % {"name": tender.tenderer.name},
        _("Tender agent: %(name)s") % {"name": tender.agent.name},
        _("Procedure: %(p)s") % {"p": tender.get_procedure_type_display()},
        _("Evaluation method: %(m)s") % {"m": tender.get_evaluation_method_display()},
        _("Bid deadline and opening time: %(t)s") % {"t": _fmt(tender.bid_deadline)},
        _("Documents available from %(a)s until %(b)s, free of charge and without registration.")
        % {"a": _fmt(tender.documents_issued_at), "b": _fmt(tender.documents_available_until)},
        _("Lots:"),
    ]
    for lot in tender.lots.all():
        lines.append(
            _("  %(n)s. %(title)s — estimated price %(price)s CNY, deposit %(dep)s CNY")
            % {"n": lot.number, "title": lot.title, "price": lot.estimated_price, "dep": lot.deposit_amount}
        )
    if extra.strip():
        lines += ["", extra.strip()]
    return "\n".join(lines).strip()


@transaction.atomic
def tender_publish(*, actor, tender: Tender, notice_title: str = "", notice_body: str = ""):
    """Check every rule, then publish: documents issued now, tender notice v1, deadline step armed."""
    authorize(actor, "tender.manage", tender)
    lock_tender(tender)
    if tender.status != TenderStatus.DRAFT:
        raise illegal_transition(tender, tender.status, TenderStatus.PUBLISHED)
    now = clock.now()
    problems = publish_problems(tender, at=now)
    if problems:
        raise problems_error(problems)
    tender.documents_issued_at = now
    tender.time_acceleration = acceleration()
    if tender.documents_available_until is None:
        tender.documents_available_until = tender.bid_deadline
    tender.save(update_fields=["documents_issued_at", "documents_available_until", "time_acceleration", "updated_at"])
    tender_transition(actor=actor, tender=tender, to=TenderStatus.PUBLISHED, reason="tender notice published")
    documents = [
        {"document": d.pk, "name": d.name, "version": d.version, "sha256": d.sha256, "size": d.size}
        for d in TenderDocument.objects.filter(tender=tender, superseded=False).order_by("name")
    ]
    notice = notice_publish(
        actor=actor,
        tender=tender,
        kind=NoticeKind.TENDER,
        title=notice_title.strip() or _("Tender notice: %(title)s") % {"title": tender.title},
        body=tender_notice_body(tender, notice_body),
        extra={
            "documents": documents,
            "bid_deadline": tender.bid_deadline,
            "documents_available_until": tender.documents_available_until,
        },
    )
    step_schedule(kind=BID_DEADLINE, subject=f"trading.tender:{tender.pk}", due_at=tender.bid_deadline, tender=tender)
    # Sealed bids: the opening key ceremony (one key per lot, Shamir shares to the custodians;
    # trading/bids/ceremony.py). It refuses the publication if a custodian has no registered key.

    opening_keys_create(actor=actor, tender=tender)
    return notice
