"""The home-page dashboard: per role, what is due next (read-only selectors).

`dashboard_for(user)` returns one `Section` per role the user holds, each with its
`DueItem`s sorted by urgency (overdue first, then by due time, undated last). Every
section comes from a provider registered with `@provider`; another app adds its own
items (deposits to confirm, bids to seal, scores to enter...) by registering one more
provider from a module that is imported at start-up:

    from bidding_ui.dashboard import DueItem, Section, provider

    @provider(order=25)
    def deposits_due(user, now):
        if not can(user, "workspace.bidder"):
            return None
        return Section(key="deposits", title=_("Deposits"), items=[...])

Providers only read. A provider that fails is skipped and logged, so that one broken
app never takes the home page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.policy import can, has_role
from accounts.roles import Role
from trading import clock, selectors
from trading.models import Objection, ObjectionStatus, Question, ScheduledStep, TenderStatus

log = logging.getLogger(__name__)

# How far ahead the supervisor's list of openings looks, and when a scheduled step counts as late.
OPENINGS_AHEAD = timedelta(days=7)
STEP_GRACE = timedelta(minutes=2)
MAX_ITEMS = 12

BIDDING_OPEN = (TenderStatus.PUBLISHED, TenderStatus.SUSPENDED)
RUNNING = (
    TenderStatus.PUBLISHED,
    TenderStatus.SUSPENDED,
    TenderStatus.BIDDING_CLOSED,
    TenderStatus.OPENING,
    TenderStatus.EVALUATING,
    TenderStatus.PUBLICITY,
)


@dataclass
class DueItem:
    kind: str  # what is due, translated ("Bid deadline")
    title: str  # what it is about ("GC-2026-0001 Road resurfacing")
    url: str = ""
    due_at: datetime | None = None
    tone: str = ""  # badge tone: ok, warn, bad, info
    note: str = ""
    overdue: bool = False


@dataclass
class Link:
    label: str
    url: str


@dataclass
class Section:
    key: str
    title: str
    items: list[DueItem] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    empty: str = ""
    total: int = 0  # items before truncation to MAX_ITEMS

    def sort(self) -> Section:
        self.items.sort(key=lambda i: (not i.overdue, i.due_at is None, i.due_at.timestamp() if i.due_at else 0.0))
        self.total = len(self.items)
        self.items = self.items[:MAX_ITEMS]
        return self


Provider = Callable[[object, datetime], "Section | None"]
_PROVIDERS: list[tuple[int, Provider]] = []


def provider(order: int = 50) -> Callable[[Provider], Provider]:
    """Register a section provider; lower `order` shows first."""

    def register(fn: Provider) -> Provider:
        if fn not in [p for _o, p in _PROVIDERS]:
            _PROVIDERS.append((order, fn))
            _PROVIDERS.sort(key=lambda pair: pair[0])
        return fn

    return register


def dashboard_for(user, *, now: datetime | None = None) -> list[Section]:
    if not getattr(user, "is_authenticated", False):
        return []
    now = now or clock.now()
    sections = []
    for _order, fn in list(_PROVIDERS):
        try:
            section = fn(user, now)
        except Exception:  # one app's failure must not take the home page down
            log.exception("dashboard provider %s failed", getattr(fn, "__name__", fn))
            continue
        if section is not None:
            sections.append(section.sort())
    return sections


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _tender_title(tender) -> str:
    return f"{tender.code} {tender.title}"


def _objection_item(o: Objection, now: datetime, url: str, kind: str | None = None) -> DueItem:
    overdue = o.is_overdue(now)
    return DueItem(
        kind=kind or (_("Objection reply overdue") if overdue else _("Objection reply due")),
        title=_tender_title(o.tender),
        url=url,
        due_at=o.reply_due_at,
        tone="bad" if overdue else "warn",
        overdue=overdue,
    )


# --- tender agent and tenderer ---------------------------------------------------------------------------


@provider(order=10)
def agent_section(user, now):
    if not can(user, "workspace.agent"):
        return None
    tenders = selectors.tenders_of_org(org_id=user.organisation_id)
    items: list[DueItem] = []
    for t in tenders.filter(status=TenderStatus.DRAFT).order_by("-updated_at")[:MAX_ITEMS]:
        items.append(
            DueItem(kind=_("Draft"), title=_tender_title(t), url=_url("tendering:agent_tender", t.pk), tone="warn",
                    note=_("Publish when every rule is met."))
        )
    for t in tenders.filter(status__in=BIDDING_OPEN, bid_deadline__gt=now).order_by("bid_deadline")[:MAX_ITEMS]:
        suspended = t.status == TenderStatus.SUSPENDED
        items.append(
            DueItem(kind=_("Bid deadline and opening"), title=_tender_title(t),
                    url=_url("tendering:agent_tender", t.pk), due_at=t.bid_deadline,
                    tone="bad" if suspended else "info",
                    note=_("Suspended until the objections are answered.") if suspended else "")
        )
    for t in tenders.filter(status=TenderStatus.PUBLICITY, publicity_ends_at__isnull=False)[:MAX_ITEMS]:
        items.append(
            DueItem(kind=_("Candidate publicity ends"), title=_tender_title(t),
                    url=_url("tendering:agent_tender", t.pk), due_at=t.publicity_ends_at, tone="info")
        )
    objections = (
        Objection.objects.filter(tender__in=tenders, status=ObjectionStatus.OPEN)
        .select_related("tender").order_by("reply_due_at")[:MAX_ITEMS]
    )
    for o in objections:
        items.append(_objection_item(o, now, _url("tendering:agent_tender", o.tender_id)))
    unanswered = (
        Question.objects.filter(tender__in=tenders, answered_at__isnull=True)
        .values("tender_id", "tender__code", "tender__title").annotate(n=Count("pk"), first=Min("asked_at"))
        .order_by("first")[:MAX_ITEMS]
    )
    for row in unanswered:
        items.append(
            DueItem(kind=ngettext("%(n)s question to answer", "%(n)s questions to answer", row["n"]) % {"n": row["n"]},
                    title=f"{row['tender__code']} {row['tender__title']}",
                    url=_url("tendering:agent_tender", row["tender_id"]), tone="warn")
        )
    items.extend(_expert_confirmations(user, now))
    links = [Link(_("Agent workspace"), _url("tendering:agent_home"))]
    if can(user, "tender.create"):
        links.append(Link(_("New tender"), _url("tendering:agent_tender_new")))
    return Section(key="agent", title=_("Tendering"), items=items, links=[lk for lk in links if lk.url],
                   empty=_("Nothing is due on your tenders."))


def _expert_confirmations(user, now) -> list[DueItem]:
    """Expert calls still waiting for an answer, per draw the user may see (the experts app, if present)."""
    try:
        from experts.models import Assignment, AssignmentStatus
        from experts.selectors import draws_for
    except ImportError:
        return []
    rows = (
        Assignment.objects.filter(draw__in=draws_for(user), status=AssignmentStatus.NOTIFIED)
        .values("draw_id", "draw__tender__code", "draw__tender__title")
        .annotate(n=Count("pk"), due=Min("respond_by")).order_by("due")[:MAX_ITEMS]
    )
    return [
        DueItem(kind=ngettext("%(n)s expert confirmation pending", "%(n)s expert confirmations pending", r["n"])
                % {"n": r["n"]}, title=f"{r['draw__tender__code']} {r['draw__tender__title']}",
                url=_url("experts:agent_draw", r["draw_id"]), due_at=r["due"], tone="warn")
        for r in rows
    ]


# --- bidder ------------------------------------------------------------------------------------------------


@provider(order=20)
def bidder_section(user, now):
    if not can(user, "workspace.bidder"):
        return None
    org_id = user.organisation_id
    items: list[DueItem] = []
    registrations = (
        selectors.registrations_of_org(org_id=org_id)
        .filter(status="registered", tender__status__in=BIDDING_OPEN, tender__bid_deadline__gt=now)
        .order_by("tender__bid_deadline")[:MAX_ITEMS]
    )
    for reg in registrations:
        items.append(
            DueItem(kind=_("Bid deadline"),
                    title=_("%(code)s, lot %(n)s") % {"code": reg.tender.code, "n": reg.lot.number}
                    + f" {reg.lot.title}",
                    url=_url("tendering:bidder_registration", reg.public_id), due_at=reg.tender.bid_deadline,
                    tone="info",
                    note=_("Pay the deposit and submit the sealed bid before the deadline."))
        )
    for q in selectors.questions_of_org(org_id=org_id).filter(answered_at__isnull=True)[:MAX_ITEMS]:
        items.append(DueItem(kind=_("Waiting for an answer"), title=_tender_title(q.tender),
                             url=_url("tendering:tender_detail", q.tender_id), tone="info"))
    for o in selectors.objections_of_org(org_id=org_id).filter(status=ObjectionStatus.OPEN)[:MAX_ITEMS]:
        items.append(_objection_item(o, now, _url("tendering:bidder_home"), kind=_("Reply to your objection due")))
    open_count = selectors.tenders_open_for_bidding().count()
    links = [
        Link(_("Bidder workspace"), _url("tendering:bidder_home")),
        Link(ngettext("%(n)s tender open for bidding", "%(n)s tenders open for bidding", open_count)
             % {"n": open_count}, _url("tendering:bidder_home")),
    ]
    return Section(key="bidder", title=_("Bidding"), items=items, links=[lk for lk in links if lk.url],
                   empty=_("You have no registrations with a deadline ahead."))


# --- expert ----------------------------------------------------------------------------------------------------


@provider(order=30)
def expert_section(user, now):
    try:
        from experts.models import AssignmentStatus
        from experts.selectors import expert_for_user, inbox_for
    except ImportError:
        return None
    if expert_for_user(user) is None:
        return None
    items = [
        DueItem(kind=_("Confirm or decline the assignment"), title=_tender_title(a.draw.tender),
                url=_url("experts:inbox"), due_at=a.respond_by, tone="warn",
                overdue=bool(a.respond_by and a.respond_by < now))
        for a in inbox_for(user).filter(status=AssignmentStatus.NOTIFIED)[:MAX_ITEMS]
    ]
    return Section(key="expert", title=_("Expert"), items=items,
                   links=[lk for lk in [Link(_("My assignments"), _url("experts:inbox"))] if lk.url],
                   empty=_("No call is waiting for your answer."))


# --- supervisor -------------------------------------------------------------------------------------------------


def _late_steps(now):
    return (
        ScheduledStep.objects.filter(done_at__isnull=True, due_at__lt=now - STEP_GRACE)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=now - STEP_GRACE))
        .select_related("tender").order_by("due_at")
    )


def _step_item(step, url) -> DueItem:
    return DueItem(kind=_("Scheduled step late"), title=f"{step.kind} · {step.subject}", url=url,
                   due_at=step.due_at, tone="bad", overdue=True, note=step.last_error[:120])


@provider(order=40)
def supervisor_section(user, now):
    if not can(user, "tender.supervise"):
        return None
    items: list[DueItem] = []
    objections = (
        Objection.objects.filter(status=ObjectionStatus.OPEN).select_related("tender").order_by("reply_due_at")
    )[:MAX_ITEMS]
    for o in objections:
        items.append(_objection_item(o, now, _url("tendering:supervisor_tender", o.tender_id)))
    openings = (
        selectors.tenders_public()
        .filter(status__in=BIDDING_OPEN, bid_deadline__gt=now, bid_deadline__lte=now + OPENINGS_AHEAD)
        .order_by("bid_deadline")[:MAX_ITEMS]
    )
    for t in openings:
        items.append(DueItem(kind=_("Opening"), title=_tender_title(t), url=_url("tendering:supervisor_tender", t.pk),
                             due_at=t.bid_deadline, tone="info"))
    for step in _late_steps(now)[:MAX_ITEMS]:
        items.append(_step_item(step, _url("tendering:supervisor_tender", step.tender_id) if step.tender_id else ""))
    try:
        from experts.selectors import warnings_open
    except ImportError:
        warnings_open = None
    if warnings_open is not None:
        for w in warnings_open()[:MAX_ITEMS]:
            items.append(DueItem(kind=_("Expert draw warning"), title=_tender_title(w.draw.tender),
                                 url=_url("experts:supervisor_draw", w.draw_id), tone="bad", overdue=True))
    links = [Link(_("Supervision"), _url("tendering:supervisor_tenders")),
             Link(_("Expert draws"), _url("experts:supervisor_draws"))]
    return Section(key="supervisor", title=_("Supervision"), items=items, links=[lk for lk in links if lk.url],
                   empty=_("No open objection, late step or opening in the next seven days."))


# --- platform administrator --------------------------------------------------------------------------------------


@provider(order=60)
def platform_section(user, now):
    if not has_role(user, Role.PLATFORM_ADMIN):
        return None
    items = [_step_item(step, "") for step in _late_steps(now)[:MAX_ITEMS]]
    links = [Link(_("Back office"), _url("admin:index"))]
    return Section(key="platform", title=_("Platform"), items=items, links=[lk for lk in links if lk.url],
                   empty=_("Every scheduled step ran on time."))


# --- visitors ------------------------------------------------------------------------------------------------------


def public_overview(*, limit: int = 8) -> dict:
    """For the home page of everyone: tenders open for bidding (with deadlines) and the latest notices."""
    return {
        "open_tenders": list(selectors.tenders_open_for_bidding()[:limit]),
        "latest_notices": list(selectors.notices_public().order_by("-published_at")[:limit]),
    }
