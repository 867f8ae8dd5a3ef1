"""Demo expert pool built from the demo users expert01 … expert60 (demo/accounts.py). Idempotent.

Called by `manage.py seed_demo`. Specialties cycle through road, bridge, building, cost, IT, law;
a few experts get past employers among the demo bidders, declared relatives, leaves, one is
suspended and one banned, so that avoidance has something to show.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from accounts.models import Organisation, User
from accounts.uscc import make_uscc
from demo.accounts import EXPERT_COUNT, ORGS
from experts.identity import id_number_with_check
from experts.models import Expert, ExpertEmployment, ExpertLeave, ExpertRelative, ExpertStatus
from experts.services.pool import (
    expert_create,
    expert_employment_add,
    expert_leave_add,
    expert_relative_add,
    expert_set_status,
)
from experts.specialties import specialties_load
from trading import clock

# (specialties, title) cycled over the 60 experts
PROFILES = [
    (["A0201", "A0301"], "高级工程师"),
    (["A0202"], "教授级高级工程师"),
    (["A0101", "A0102"], "高级工程师"),
    (["D0101", "D0103"], "高级造价工程师"),
    (["D02", "D03"], "高级会计师"),
    (["B0101", "C0201"], "高级工程师"),
    (["A0203", "A0204"], "工程师"),
    (["E01"], "律师"),
    (["C0103", "A0201"], "注册监理工程师"),
    (["D04", "F01"], "高级经济师"),
]
REGIONS = ["330102", "330106", "330110", "330200", "330300"]


def _org(key: str) -> Organisation | None:
    for org_key, _name, body, _account in ORGS:
        if org_key == key:
            return Organisation.objects.filter(uscc=make_uscc(body)).first()
    return None


@transaction.atomic
def seed() -> list[str]:
    lines = []
    created_specialties = specialties_load()
    if created_specialties:
        lines.append(f"experts: {created_specialties} specialties loaded")
    made = 0
    for i in range(1, EXPERT_COUNT + 1):
        user = User.objects.filter(username=f"expert{i:02d}").first()
        if user is None or Expert.objects.filter(user=user).exists():
            continue
        specialties, title = PROFILES[(i - 1) % len(PROFILES)]
        expert_create(actor="system", name=user.first_name or user.username,
                      id_number=id_number_with_check(f"330106197{i % 10}0{(i % 9) + 1}01{i:03d}"[:17]),
                      phone=f"1380000{i:04d}", email=user.email, region=REGIONS[i % len(REGIONS)],
                      specialties=specialties, employer=user.organisation, title=title, years=5 + i % 25,
                      user=user)
        made += 1
    if made:
        lines.append(f"experts: {made} pool entries for expert01 … expert{EXPERT_COUNT:02d}")
    lines += _facts()
    return lines


def _expert(n: int) -> Expert | None:
    return Expert.objects.filter(user__username=f"expert{n:02d}").first()


def _facts() -> list[str]:
    out = []
    today = clock.now().date()
    bidder1, bidder2, bidder3 = _org("bidder1"), _org("bidder2"), _org("bidder3")
    past = [(1, bidder1, today - timedelta(days=400), "employee"),       # within 3 years: avoided
            (11, bidder2, today - timedelta(days=700), "director"),      # within 3 years: avoided
            (21, bidder1, date(today.year - 5, 6, 30), "employee")]      # over 3 years ago: eligible
    for n, org, ended, position in past:
        expert = _expert(n)
        if expert and org and not ExpertEmployment.objects.filter(expert=expert, organisation=org).exists():
            expert_employment_add(actor="system", expert=expert, organisation=org, position=position,
                                  started_on=ended - timedelta(days=3 * 365), ended_on=ended)
            out.append(f"experts: expert{n:02d} formerly at {org.name.split(' ')[0]} until {ended}")
    relative = _expert(31)
    if relative and bidder3 and not ExpertRelative.objects.filter(expert=relative).exists():
        expert_relative_add(actor="system", expert=relative, organisation=bidder3, relation="配偶",
                            note="spouse is deputy manager")
        out.append("experts: expert31 declared a relative at bidder3")
    for n in (41, 42):
        expert = _expert(n)
        if expert and not ExpertLeave.objects.filter(expert=expert).exists():
            start = clock.now() - timedelta(days=1)
            expert_leave_add(actor="system", expert=expert, starts_at=start, ends_at=start + timedelta(days=30),
                             reason="出差 business trip")
            out.append(f"experts: expert{n:02d} on leave for 30 days")
    for n, status, reason in ((51, ExpertStatus.SUSPENDED, "年度考核不合格 failed the annual review"),
                              (52, ExpertStatus.BANNED, "违规泄露评标信息 disclosed evaluation details")):
        expert = _expert(n)
        if expert and expert.status == ExpertStatus.ACTIVE:
            expert_set_status(actor="system", expert=expert, status=status, reason=reason)
            out.append(f"experts: expert{n:02d} {status}")
    return out
