"""Navigation by role: each entry appears only for users whose role needs it."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role

# (url name, label, roles that see it; empty = everyone)
NAVIGATION: list[tuple[str, object, tuple[str, ...]]] = [
    ("home", _("Home"), ()),
    ("tendering:notice_list", _("Notices"), ()),
    ("tendering:results", _("Results"), ()),
    ("tendering:agent_home", _("Agent workspace"), (Role.AGENT, Role.TENDERER)),
    ("tendering:bidder_home", _("Bidder workspace"), (Role.BIDDER,)),
    ("tendering:supervisor_tenders", _("Supervision"), (Role.SUPERVISOR,)),
    ("supervision:dashboard", _("Live supervision"), (Role.SUPERVISOR,)),
    ("experts:agent_draws", _("Expert draws"), (Role.AGENT, Role.TENDERER)),
    ("experts:inbox", _("My assignments"), (Role.EXPERT,)),
    ("experts:supervisor_draws", _("Expert draws"), (Role.SUPERVISOR,)),
    ("evaluation:expert_home", _("My evaluations"), (Role.EXPERT,)),
    ("evaluation:bidder_status", _("Objections and complaints"), (Role.BIDDER,)),
    ("evaluation:supervisor_complaints", _("Complaints"), (Role.SUPERVISOR,)),
    ("admin:index", _("Back office"), (Role.PLATFORM_ADMIN,)),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    items = []
    for url_name, label, roles in NAVIGATION:
        if roles and not (user and user.is_authenticated and any(user.has_role(r) for r in roles)):
            continue
        try:
            items.append({"url": reverse(url_name), "label": label, "active": request.path == reverse(url_name)})
        except NoReverseMatch:
            continue
    return {"nav_items": items}
