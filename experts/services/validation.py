"""Validation of a draw request against the committee rules (experts/rules.py), each refusal with its source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import DomainError, RuleViolation, StateConflict
from experts import rules
from experts.models import Specialty
from trading import clock
from trading.models import TenderStatus

# A panel is drawn once the tender is public and until its evaluation; avoidance reads the lot's
# registrations (the system sees them even while they are sealed from the agent).
DRAWABLE = (TenderStatus.PUBLISHED, TenderStatus.BIDDING_CLOSED, TenderStatus.OPENING, TenderStatus.EVALUATING)


@dataclass(frozen=True)
class LineSpec:
    specialty: Specialty
    count: int
    reserves: int = 0


def resolve_lines(lines) -> list[LineSpec]:
    """[{"specialty": "A0201", "count": 3, "reserves": 2}, ...] → LineSpec list (unknown codes refused)."""
    if not isinstance(lines, (list, tuple)) or not lines:
        raise DomainError(_("The composition needs at least one specialty line."), fields={"lines": ["empty"]})
    if len(lines) > rules.LINES_MAX:
        raise DomainError(_("At most %(n)s specialty lines.") % {"n": rules.LINES_MAX}, fields={"lines": ["too many"]})
    codes = {str(line.get("specialty", "")) for line in lines}
    known = Specialty.objects.in_bulk(list(codes))
    out = []
    for i, line in enumerate(lines):
        code = str(line.get("specialty", ""))
        if code not in known:
            raise DomainError(_("Unknown specialty code %(code)r.") % {"code": code},
                              fields={"lines": {i: ["unknown specialty"]}})
        try:
            count, reserves = int(line.get("count", 0)), int(line.get("reserves", 0) or 0)
        except (TypeError, ValueError):
            raise DomainError(_("Counts must be whole numbers."), fields={"lines": {i: ["not a number"]}}) from None
        if count < 1:
            raise DomainError(_("Each specialty line draws at least one member."),
                              fields={"lines": {i: ["count < 1"]}})
        if not 0 <= reserves <= rules.RESERVES_MAX:
            raise DomainError(_("Reserves per line: 0 to %(n)s.") % {"n": rules.RESERVES_MAX},
                              fields={"lines": {i: ["reserves out of range"]}})
        out.append(LineSpec(known[code], count, reserves))
    return out


def normalize_regions(regions) -> list[str]:
    regions = [str(r).strip() for r in (regions or []) if str(r).strip()]
    if len(regions) > rules.REGIONS_MAX:
        raise DomainError(_("At most %(n)s regions.") % {"n": rules.REGIONS_MAX}, fields={"regions": ["too many"]})
    for region in regions:
        if not re.fullmatch(r"\d{2,12}", region):
            raise DomainError(_("Region %(r)r is not an administrative division code (GB/T 2260, e.g. 330100).")
                              % {"r": region},
                              fields={"regions": [f"invalid: {region}"]})
    return sorted(set(regions))


def _fmt(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def validate_request(*, tender, lot, committee_size: int, owner_representatives: int, lines: list[LineSpec],
                     evaluation_start: datetime, evaluation_end: datetime, place: str, remote: bool) -> None:
    if lot.tender_id != tender.pk:
        raise DomainError(_("The lot does not belong to the tender."), fields={"lot": ["wrong tender"]})
    if tender.status not in DRAWABLE:
        raise StateConflict(_("Tender %(code)s is %(status)s: experts are drawn for a published tender before its "
                              "evaluation.") % {"code": tender.code, "status": tender.status}, code="not_drawable")
    now = clock.now()
    if evaluation_start <= now:
        raise DomainError(_("The evaluation must start in the future."), fields={"evaluation_start": ["in the past"]})
    if evaluation_end <= evaluation_start:
        raise DomainError(_("The evaluation must end after it starts."), fields={"evaluation_end": ["before start"]})
    if evaluation_start < tender.bid_deadline:
        raise DomainError(_("The evaluation follows the opening at the bid deadline (%(at)s; 招标投标法 Art 34).")
                          % {"at": _fmt(tender.bid_deadline)}, fields={"evaluation_start": ["before the opening"]})
    if not remote and not place.strip():
        raise DomainError(_("Give the evaluation place, or choose remote evaluation."), fields={"place": ["required"]})

    size_fields = {"committee_size": []}
    if committee_size % 2 == 0:
        raise RuleViolation(_("The committee must have an odd number of members, not %(n)s (%(source)s).")
                            % {"n": committee_size, "source": rules.COMMITTEE_ODD.source}, code="committee_size",
                            fields={"committee_size": ["even"]})
    minimum = rules.min_committee(tender.procedure_type, lot.estimated_price)
    if committee_size < int(minimum.value):
        if minimum is rules.GP_LARGE_COMMITTEE_MIN:
            message = _("Government procurement with a budget of %(budget)s CNY or more needs a committee of "
                        "%(n)s or more (%(source)s).") % {"budget": f"{rules.GP_LARGE_BUDGET.value:,}",
                                                         "n": minimum.value, "source": minimum.source}
        else:
            message = _("The committee needs %(n)s or more members (%(source)s).") % {
                "n": minimum.value, "source": minimum.source}
        size_fields["committee_size"].append(f"at least {minimum.value}")
        raise RuleViolation(message, code="committee_size", fields=size_fields)
    if committee_size > rules.COMMITTEE_MAX:
        raise DomainError(_("A committee of more than %(n)s members is refused (platform limit).")
                          % {"n": rules.COMMITTEE_MAX},
                          fields={"committee_size": ["too large"]})
    if owner_representatives < 0:
        raise DomainError(_("Representatives cannot be negative."), fields={"owner_representatives": ["negative"]})
    drawn = sum(line.count for line in lines)
    if drawn + owner_representatives != committee_size:
        raise DomainError(_("The specialty lines draw %(drawn)s experts and the tenderer sends %(reps)s "
                            "representative(s): that is not the committee size %(size)s.")
                          % {"drawn": drawn, "reps": owner_representatives, "size": committee_size},
                          code="composition", fields={"lines": ["sum differs from the committee size"]})
    tech_econ = sum(line.count for line in lines if line.specialty.counts_as_tech_econ)
    num, den = (int(r.value) for r in rules.TECH_ECON_SHARE)
    if tech_econ * den < committee_size * num:
        source = rules.TECH_ECON_SHARE[0].source
        if tender.procedure_type == "government_procurement":
            source += "; " + rules.GP_EXPERT_SHARE_SOURCE
        raise RuleViolation(_("Technical and economic experts must be at least two thirds of the committee: "
                              "%(n)s of %(size)s is too few (%(source)s).")
                            % {"n": tech_econ, "size": committee_size, "source": source}, code="composition",
                            fields={"lines": ["too few technical and economic experts"]})
