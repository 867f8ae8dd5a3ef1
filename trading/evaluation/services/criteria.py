"""Weighted criteria of comprehensive scoring, defined with the tender documents (招标投标法 Art 40)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.services import audit_record
from config.errors import DomainError, StateConflict
from trading.evaluation import ranking
from trading.evaluation.models import Criterion, CriterionKind
from trading.evaluation.rules import CRITERIA_FROM_DOCUMENTS
from trading.models import EvaluationMethod, Tender, TenderStatus
from trading.services.tender_status import lock_tender
from trading.services.tenders import Problem, publish_check


def criteria_of(tender: Tender) -> list[ranking.Criterion]:
    return [
        ranking.Criterion(key=c.pk, name=c.name, max_points=c.max_points, kind=c.kind)
        for c in Criterion.objects.filter(tender=tender).order_by("number")
    ]


def criteria_problems(tender: Tender) -> list[str]:
    """Why the tender's criteria cannot be used for comprehensive scoring (empty: they can)."""
    try:
        ranking.check_criteria(criteria_of(tender))
    except ranking.RankingError as exc:
        return [str(exc)]
    return []


@transaction.atomic
def criteria_set(*, actor, tender: Tender, criteria: list[dict]) -> list[Criterion]:
    """Replace the tender's criteria. Only while the tender is a draft: the criteria are part of
    the tender documents and cannot change once published (招标投标法 Art 40)."""
    authorize(actor, "evaluation.criteria", tender)
    lock_tender(tender)
    if tender.status != TenderStatus.DRAFT:
        raise StateConflict(
            _("The evaluation criteria are part of the published tender documents and can no longer change (%(src)s).")
            % {"src": CRITERIA_FROM_DOCUMENTS},
            code="criteria_fixed",
        )
    rows: list[Criterion] = []
    fields: dict = {}
    for i, item in enumerate(criteria):
        name = (item.get("name") or "").strip()
        kind = item.get("kind") or CriterionKind.SCORED
        try:
            points = Decimal(str(item.get("max_points")))
        except (InvalidOperation, TypeError, ValueError):
            points = None
        problems = []
        if not name:
            problems.append("name required")
        if kind not in CriterionKind.values:
            problems.append("kind must be 'price' or 'scored'")
        if points is None or not points.is_finite() or points <= 0 or points > 100 or points != points.quantize(
            Decimal("0.01")
        ):
            problems.append("max_points: a positive number up to 100 with at most 2 decimals")
        if problems:
            fields[str(i)] = problems
            continue
        rows.append(
            Criterion(
                tender=tender,
                number=i + 1,
                name=name[:200],
                description=(item.get("description") or "").strip(),
                kind=kind,
                max_points=points,
            )
        )
    if fields:
        raise DomainError(_("Some criteria are invalid."), fields={"criteria": fields})
    try:
        ranking.check_criteria(
            [ranking.Criterion(key=i, name=r.name, max_points=r.max_points, kind=r.kind) for i, r in enumerate(rows)]
        )
    except ranking.RankingError as exc:
        raise DomainError(str(exc), code="invalid_criteria", fields={"criteria": [str(exc)]}) from None
    Criterion.objects.filter(tender=tender).delete()
    Criterion.objects.bulk_create(rows)
    saved = list(Criterion.objects.filter(tender=tender).order_by("number"))
    audit_record(
        actor=actor,
        action="evaluation_criteria.set",
        obj=tender,
        data={
            "tender": tender.pk,
            "criteria": [
                {"number": c.number, "name": c.name, "kind": c.kind, "max_points": c.max_points} for c in saved
            ],
        },
    )
    return saved


@publish_check
def criteria_publish_problems(tender: Tender) -> list[Problem]:
    """Publish-time rule: comprehensive scoring needs its weighted criteria in the tender documents."""
    if tender.evaluation_method != EvaluationMethod.COMPREHENSIVE_SCORING:
        return []
    return [
        Problem(
            "criteria_required",
            "criteria",
            _("Comprehensive scoring needs its weighted criteria in the tender documents: %(why)s (%(src)s).")
            % {"why": message, "src": CRITERIA_FROM_DOCUMENTS},
            CRITERIA_FROM_DOCUMENTS,
        )
        for message in criteria_problems(tender)
    ]
