"""Navigation by role: each entry appears only for users whose role needs it.

Entries are grouped in the header by the first role they name (NAV_GROUPS): the public
portal, tendering (agent/tenderer), bidding, experts, supervision, custodians, platform.
To add a page, append one line to NAVIGATION; an optional fourth element names the
group explicitly (a key of NAV_GROUPS). URL names that do not resolve are skipped.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role

# (url name, label, roles that see it; empty = everyone)
NAVIGATION: list[tuple[str, object, tuple[str, ...]]] = [
    ("home", _("Home"), ()),
    ("tendering:notice_list", _("Notices"), ()),
    ("tendering:results", _("Results"), ()),
    ("tendering:agent_home", _("Agent workspace"), (Role.AGENT, Role.TENDERER)),
    ("tendering:bidder_home", _("Bidder workspace"), (Role.BIDDER,)),
    # One supervision entry: the tender list, which links the live dashboard (电子监察) and back.
    ("tendering:supervisor_tenders", _("Supervision"), (Role.SUPERVISOR,)),
    ("experts:agent_draws", _("Expert draws"), (Role.AGENT, Role.TENDERER)),
    ("experts:inbox", _("My assignments"), (Role.EXPERT,)),
    ("experts:supervisor_draws", _("Expert draws"), (Role.SUPERVISOR,)),
    ("evaluation:expert_home", _("My evaluations"), (Role.EXPERT,)),
    ("evaluation:bidder_status", _("Objections and complaints"), (Role.BIDDER,)),
    ("evaluation:supervisor_complaints", _("Complaints"), (Role.SUPERVISOR,)),
    ("deposits:bidder_deposits", _("My deposits"), (Role.BIDDER,)),
    ("deposits:supervisor_desk", _("Deposits"), (Role.SUPERVISOR,)),
    ("deposits:admin_desk", _("Deposits desk"), (Role.PLATFORM_ADMIN,)),
    ("admin:index", _("Back office"), (Role.PLATFORM_ADMIN,)),
]


# Header groups, in display order: key → (label, roles whose entries belong to it).
NAV_GROUPS: dict[str, tuple[object, tuple[str, ...]]] = {
    "portal": (_("Public portal"), ()),
    "tendering": (_("Tendering"), (Role.AGENT, Role.TENDERER)),
    "bidding": (_("Bidding"), (Role.BIDDER,)),
    "expert": (_("Expert"), (Role.EXPERT,)),
    "supervision": (_("Supervision"), (Role.SUPERVISOR,)),
    "custodian": (_("Key custody"), (Role.CUSTODIAN,)),
    "platform": (_("Platform"), (Role.PLATFORM_ADMIN,)),
}


def _group_of(roles: tuple[str, ...]) -> str:
    if not roles:
        return "portal"
    for key, (_label, group_roles) in NAV_GROUPS.items():
        if roles[0] in group_roles:
            return key
    return "portal"


def _is_active(path: str, url: str) -> tuple[bool, bool]:
    """(this page, inside this section)."""
    return path == url, url != "/" and path.startswith(url) and path != url


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    path = getattr(request, "path", "")
    items = []
    groups: dict[str, dict] = {}
    for entry in NAVIGATION:
        url_name, label, roles = entry[:3]
        if roles and not (user and user.is_authenticated and any(user.has_role(r) for r in roles)):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        current, inside = _is_active(path, url)
        item = {"url": url, "label": label, "active": current, "section": inside}
        items.append(item)
        key = entry[3] if len(entry) > 3 and entry[3] in NAV_GROUPS else _group_of(tuple(roles))
        groups.setdefault(key, {"key": key, "label": NAV_GROUPS[key][0], "items": []})["items"].append(item)
    # One highlight: the page itself, else the deepest section holding it (/supervision/replay/ is
    # inside both /supervision/ and /supervision/replay/... only the longer prefix counts).
    inside = [i for i in items if i["section"]]
    deepest = None if any(i["active"] for i in items) else max(inside, key=lambda i: len(i["url"]), default=None)
    for item in inside:
        item["section"] = item is deepest
    nav_groups = [groups[k] for k in NAV_GROUPS if k in groups]
    return {"nav_items": items, "nav_groups": nav_groups, "server_now": timezone.now(),
            "platform_time_zone": settings.TIME_ZONE}  # body[data-time-zone]: format.js shows times in it
