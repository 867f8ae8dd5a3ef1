"""Reads of the expert app, shaped by who asks (the sealing rules live in experts/policies.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from accounts.policy import can, has_role
from accounts.roles import Role
from experts.models import (
    BOOKING,
    Assignment,
    AssignmentStatus,
    Draw,
    DrawWarning,
    Expert,
    ExpertStatus,
    Specialty,
)
from trading.phases import PANEL_SEATED


def specialties() -> QuerySet[Specialty]:
    return Specialty.objects.order_by("code")


def expert_for_user(user) -> Expert | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Expert.objects.filter(user=user).first()


def pool_list(*, search: str = "", specialty: str = "", status: str = "", region: str = "") -> QuerySet[Expert]:
    """The pool for its managers (call only after `expert_pool.browse`)."""
    qs = Expert.objects.select_related("employer").prefetch_related("specialties").order_by("pk")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(phone__contains=search))
    if specialty:
        qs = qs.filter(specialties__code__startswith=specialty).distinct()
    if status in ExpertStatus.values:
        qs = qs.filter(status=status)
    if region:
        qs = qs.filter(region__startswith=region)
    return qs


def draws_for(user) -> QuerySet[Draw]:
    """Draws the user may see: supervisors all; agents and tenderers their own tenders'."""
    qs = Draw.objects.select_related("tender", "lot").order_by("-created_at", "-pk")
    if has_role(user, Role.SUPERVISOR):
        return qs
    org = getattr(user, "organisation_id", None)
    if not org:
        return qs.none()
    match = Q(pk__in=[])
    if has_role(user, Role.AGENT):
        match |= Q(tender__agent_id=org)
    if has_role(user, Role.TENDERER):
        match |= Q(tender__tenderer_id=org)
    return qs.filter(match)


@dataclass
class SeatView:
    seat: int
    line: int
    specialty: str
    status: str                      # accepted | notified | vacant
    expert: Expert | None = None     # only when the viewer may see identities
    assignment: Assignment | None = None


@dataclass
class LineView:
    index: int
    specialty: Specialty
    count: int
    reserves: int
    pool_size: int
    accepted: int = 0
    pending: int = 0
    reserves_left: int = 0
    declined: int = 0
    timed_out: int = 0
    left: int = 0


@dataclass
class DrawView:
    """What a viewer sees of a draw: counts and seat statuses for everyone allowed; identities,
    the drawn sequence and the commitment details only when `identities` is on."""

    draw: Draw
    lines: list[LineView]
    seats: list[SeatView]
    counts: dict[str, int]
    identities: bool
    sequence: list[Assignment] = field(default_factory=list)
    warnings: list[DrawWarning] = field(default_factory=list)


def draw_view(user, draw: Draw) -> DrawView:
    identities = can(user, "draw.view_panel", draw)
    supervise = can(user, "draw.supervise", draw)
    lines = list(draw.lines.select_related("specialty").order_by("index"))
    rows = list(draw.assignments.select_related("expert", "line").order_by("seq"))
    by_line = {line.pk: LineView(line.index, line.specialty, line.count, line.reserves, line.pool_size)
               for line in lines}
    holder: dict[int, Assignment] = {}
    counts: Counter = Counter()
    for row in rows:
        counts[row.status] += 1
        view = by_line[row.line_id]
        if row.status == AssignmentStatus.ACCEPTED:
            view.accepted += 1
        elif row.status == AssignmentStatus.NOTIFIED:
            view.pending += 1
        elif row.status == AssignmentStatus.RESERVE:
            view.reserves_left += 1
        elif row.status == AssignmentStatus.DECLINED:
            view.declined += 1
        elif row.status == AssignmentStatus.TIMED_OUT:
            view.timed_out += 1
        elif row.status == AssignmentStatus.LEFT:
            view.left += 1
        if row.seat and row.status in BOOKING:
            holder[row.seat] = row
    seats, offset = [], 0
    for line in lines:
        for seat in range(offset + 1, offset + line.count + 1):
            row = holder.get(seat)
            seats.append(SeatView(seat=seat, line=line.index, specialty=line.specialty_id,
                                  status=row.status if row else "vacant",
                                  expert=row.expert if (row and identities) else None,
                                  assignment=row if identities else None))
        offset += line.count
    return DrawView(draw=draw, lines=list(by_line.values()), seats=seats, counts=dict(counts),
                    identities=identities, sequence=rows if supervise else [],
                    warnings=list(draw.warnings.all()) if supervise else [])


def inbox_for(user) -> QuerySet[Assignment]:
    """The expert's own calls and seats (never the other members)."""
    expert = expert_for_user(user)
    if expert is None:
        return Assignment.objects.none()
    # Only calls the expert received: a reserve never called (even once released) is not told of the draw.
    return (Assignment.objects.filter(expert=expert, notified_at__isnull=False)
            .select_related("draw__tender", "draw__lot", "line__specialty").order_by("-notified_at", "-pk"))


def warnings_open() -> QuerySet[DrawWarning]:
    return DrawWarning.objects.filter(acknowledged_at__isnull=True).select_related("draw__tender", "line")


def on_panel(user, tender) -> bool:
    """Whether `user` holds a seat (notified, accepted or reserve) on a panel drawn for `tender`."""
    return Assignment.objects.filter(draw__tender=tender, expert__user=user, status__in=PANEL_SEATED).exists()
