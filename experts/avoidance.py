"""Who may be drawn: computed by the system, never by hand (回避, 招标投标法 Art 37; 政府采购法实施条例 Art 9).

Each avoidance reason is one set-based query returning expert ids (small sets: the staff of a
few hundred organisations, the experts on leave, ...); the candidates of a line are one query on
the specialty table. The eligible list is `sorted(candidates - union(reasons))`, computed with set
operations, never with a loop over the pool. `exclusions(..., only=ids)` runs the same queries
restricted to a few ids: used when a redraw or a promotion checks one expert again.

Reasons (the keys of `Draw.excluded`, counts only, never names):

| key                 | who                                                          | source        |
|---------------------|--------------------------------------------------------------|---------------|
| inactive            | suspended or banned experts                                  | pool status   |
| tenderer_staff      | employed by the tenderer now or in the last 3 years          | 招标投标法 Art 37 |
| agent_staff         | employed by the tender agent now or in the last 3 years      | 招标投标法 Art 37 |
| bidder_staff        | current employer is a bidder of the lot                      | 招标投标法 Art 37 |
| bidder_former_staff | employee, director or controlling shareholder of a bidder in  | 政府采购法实施条例 Art 9 |
|                     | the last 3 years (or a second, ongoing relation)             |               |
| relative            | declared a close relative at a bidder or at the tenderer     | 评标委员会和评标方法 |
|                     |                                                              | 暂行规定 Art 12 |
| on_leave            | a leave period overlaps the evaluation                       | availability  |
| booked              | called or accepted for another panel at an overlapping time  | availability  |
| tenderer_cap        | already on EXPERTS_SAME_TENDERER_CAP_PER_YEAR panels of this | setting       |
|                     | tenderer in the evaluation's calendar year                   |               |
| credit_suspended    | suspended from the pool by poor ratings or a credit record   | credit/       |
|                     | at the evaluation's start (专家动态考核, docs/credit.md)     |               |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from credit.services import suspended_expert_ids
from experts import rules
from experts.models import (
    BOOKING,
    Assignment,
    DrawStatus,
    Expert,
    ExpertEmployment,
    ExpertLeave,
    ExpertRelative,
    ExpertSpecialty,
    ExpertStatus,
    PanelRecord,
    Specialty,
)
from trading.models import Registration, RegistrationStatus

REASONS = ("inactive", "tenderer_staff", "agent_staff", "bidder_staff", "bidder_former_staff", "relative",
           "on_leave", "booked", "tenderer_cap", "credit_suspended")


@dataclass(frozen=True)
class Context:
    tenderer_id: int
    agent_id: int
    bidder_ids: frozenset[int]
    start: dt.datetime
    end: dt.datetime
    draw_id: int | None = None
    cap: int = field(default_factory=rules.same_tenderer_cap)

    @property
    def lookback(self) -> dt.date:
        """Relations that ended on or after this day count (3 years before the evaluation)."""
        day = timezone.localdate(self.start)
        years = int(rules.FORMER_STAFF_YEARS.value)
        try:
            return day.replace(year=day.year - years)
        except ValueError:  # 29 February
            return day.replace(year=day.year - years, day=28)

    def year_window(self) -> tuple[dt.datetime, dt.datetime]:
        local = timezone.localtime(self.start)
        first = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return first, first.replace(year=first.year + 1)


def context_for(draw) -> Context:
    bidders = frozenset(Registration.objects.filter(lot_id=draw.lot_id, status=RegistrationStatus.REGISTERED)
                        .values_list("bidder_id", flat=True))
    tender = draw.tender
    return Context(tenderer_id=tender.tenderer_id, agent_id=tender.agent_id, bidder_ids=bidders,
                   start=draw.evaluation_start, end=draw.evaluation_end, draw_id=draw.pk)


def _reason_queries(ctx: Context, only: list[int] | None) -> list[tuple[str, object]]:
    """(reason, queryset of expert ids) for every avoidance reason."""
    experts = Expert.objects.all()
    employments = ExpertEmployment.objects.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=ctx.lookback))
    relatives, leaves = ExpertRelative.objects.all(), ExpertLeave.objects.all()
    bookings, records = Assignment.objects.all(), PanelRecord.objects.all()
    if ctx.draw_id is not None:  # the draw's own seats and records never exclude its members
        bookings, records = bookings.exclude(draw_id=ctx.draw_id), records.exclude(draw_id=ctx.draw_id)
    if only is not None:
        experts = experts.filter(pk__in=only)
        employments, relatives = employments.filter(expert_id__in=only), relatives.filter(expert_id__in=only)
        leaves, bookings = leaves.filter(expert_id__in=only), bookings.filter(expert_id__in=only)
        records = records.filter(expert_id__in=only)
    bidders = sorted(ctx.bidder_ids)
    queries = [
        ("inactive", experts.filter(status__in=[ExpertStatus.SUSPENDED, ExpertStatus.BANNED]).values_list("pk")),
        ("tenderer_staff", experts.filter(employer_id=ctx.tenderer_id).values_list("pk")),
        ("tenderer_staff", employments.filter(organisation_id=ctx.tenderer_id).values_list("expert_id")),
        ("agent_staff", experts.filter(employer_id=ctx.agent_id).values_list("pk")),
        ("agent_staff", employments.filter(organisation_id=ctx.agent_id).values_list("expert_id")),
        ("relative", relatives.filter(organisation_id__in=[*bidders, ctx.tenderer_id]).values_list("expert_id")),
        ("on_leave", leaves.filter(starts_at__lt=ctx.end, ends_at__gt=ctx.start).values_list("expert_id")),
        ("booked", bookings.filter(status__in=BOOKING, draw__evaluation_start__lt=ctx.end,
                                   draw__evaluation_end__gt=ctx.start)
         .exclude(draw__status=DrawStatus.CANCELLED).values_list("expert_id")),
    ]
    queries.append(("credit_suspended", suspended_expert_ids(ctx.start, only=only)))
    if bidders:
        queries += [
            ("bidder_staff", experts.filter(employer_id__in=bidders).values_list("pk")),
            ("bidder_former_staff", employments.filter(organisation_id__in=bidders).values_list("expert_id")),
        ]
    if ctx.cap > 0:
        first, last = ctx.year_window()
        queries.append(("tenderer_cap", records.filter(tenderer_id=ctx.tenderer_id, cancelled=False,
                                                       evaluation_start__gte=first, evaluation_start__lt=last)
                        .values("expert_id").annotate(n=Count("pk")).filter(n__gte=ctx.cap).values_list("expert_id")))
    return queries


def exclusions(ctx: Context, *, only: Collection[int] | None = None) -> dict[str, set[int]]:
    """Expert ids excluded for each reason (restricted to `only` when given): one round trip,
    the reasons' queries joined with UNION ALL."""
    out: dict[str, set[int]] = {reason: set() for reason in REASONS}
    if only is not None:
        only = list(only)
        if not only:
            return out
    parts, params = [], []
    for reason, qs in _reason_queries(ctx, only):
        sql, qs_params = qs.order_by().query.sql_with_params()
        parts.append(f"SELECT %s, sub.* FROM ({sql}) sub")  # noqa: S608 (SQL compiled by the ORM, parameters bound)
        params += [reason, *qs_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for reason, expert_id in cursor.fetchall():
            out[reason].add(expert_id)
    return out


def first_reason(expert_id: int, excluded: dict[str, set[int]]) -> str | None:
    for reason in REASONS:
        if expert_id in excluded.get(reason, ()):
            return reason
    return None


def specialty_codes(code: str) -> list[str]:
    return list(Specialty.objects.filter(code__startswith=code).values_list("code", flat=True))


def _candidates_query(code: str, regions: Collection[str]):
    qs = ExpertSpecialty.objects.filter(specialty_id__in=specialty_codes(code))
    if regions:
        match = Q()
        for region in regions:
            match |= Q(expert__region__startswith=region)
        qs = qs.filter(match)
    return qs.order_by().values_list("expert_id")


def candidates_all(lines: list[tuple[str, Collection[str]]]) -> list[set[int]]:
    """Per line, the experts with a specialty in the subtree of its code (and in one of its regions, if any).
    PostgreSQL: one round trip, each line's ids as one array (parsed in C, no per-row Python)."""
    if connection.vendor != "postgresql":
        return [set(_candidates_query(code, regions).values_list("expert_id", flat=True)) for code, regions in lines]
    parts, params = [], []
    for index, (code, regions) in enumerate(lines):
        sql, qs_params = _candidates_query(code, regions).query.sql_with_params()
        parts.append(f"SELECT %s, (SELECT array_agg(sub.expert_id) FROM ({sql}) sub)")  # noqa: S608 (ORM SQL)
        params += [index, *qs_params]
    found: list[set[int]] = [set() for _ in lines]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for index, ids in cursor.fetchall():
            found[index] = set(ids or ())
    return found


def candidates(code: str, regions: Collection[str]) -> set[int]:
    return candidates_all([(code, regions)])[0]


@dataclass
class Eligibility:
    lines: list[list[int]]            # per line: sorted eligible ids
    excluded: dict[str, int]          # per reason: how many candidates it removed (overlapping)
    excluded_total: int               # distinct candidates removed
    candidates: int                   # distinct candidates over all lines
    eligible: int = 0                 # distinct eligible experts over all lines


def eligibility(ctx: Context, lines: list[tuple[str, Collection[str]]]) -> Eligibility:
    """Eligible sorted id lists for the (specialty code, regions) lines of a request."""
    excluded = exclusions(ctx)
    removed: set[int] = set().union(*excluded.values())
    per_line = candidates_all(lines)
    everyone: set[int] = set().union(*per_line)
    removed_here = removed & everyone
    return Eligibility(
        lines=[sorted(c - removed_here) for c in per_line],
        excluded={reason: len(ids & everyone) for reason, ids in excluded.items()},
        excluded_total=len(removed_here),
        candidates=len(everyone),
        eligible=len(everyone) - len(removed_here),
    )
