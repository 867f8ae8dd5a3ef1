"""Fixtures of the expert tests: a tender with a lot and bidders, a pool factory, draw helpers."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import Role
from experts.identity import id_number_with_check
from experts.models import Specialty
from experts.specialties import specialties_load
from tests.fixtures.directory import _english  # noqa: F401  (messages are asserted in English)

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _specialties(db):
    # Migration 0002 loads them; a transactional test's flush removes them, so load again when missing.
    if not Specialty.objects.exists():
        specialties_load()


@pytest.fixture
def now():
    return timezone.now()


class World:
    """A works tender (bidding closed) with one lot, three registered bidders, its agent and tenderer,
    a supervisor and a platform operator."""

    def __init__(self, make_org, make_user, *, procedure_type="works", price=Decimal("5000000"), bidders=3):
        from trading.models import Lot, Registration, Tender, TenderStatus

        now = timezone.now()
        self.tenderer_org = make_org("Tenderer Bureau")
        self.agent_org = make_org("Agent Co")
        self.agent = make_user(Role.AGENT, org=self.agent_org)
        self.tenderer = make_user(Role.TENDERER, org=self.tenderer_org)
        self.supervisor = make_user(Role.SUPERVISOR)
        self.operator = make_user(Role.PLATFORM_ADMIN)
        n = next(_ids)
        self.tender = Tender.objects.create(
            code=f"GC-TEST-{n:05d}", title=f"Road works {n}", tenderer=self.tenderer_org, agent=self.agent_org,
            created_by=self.agent, procedure_type=procedure_type, bid_deadline=now - timedelta(hours=1),
            status=TenderStatus.BIDDING_CLOSED, published_at=now - timedelta(days=30),
            bidding_closed_at=now - timedelta(hours=1))
        self.lot = Lot.objects.create(tender=self.tender, number=1, title="Lot 1", estimated_price=price)
        self.bidder_orgs, self.bidder_users = [], []
        for _ in range(bidders):
            user = make_user(Role.BIDDER)
            self.bidder_users.append(user)
            self.bidder_orgs.append(user.organisation)
            Registration.objects.create(lot=self.lot, tender=self.tender, bidder=user.organisation,
                                        registered_by=user, created_at=now, updated_at=now)
        self.start = now + timedelta(days=1)
        self.end = self.start + timedelta(hours=4)

    def request(self, **overrides) -> dict:
        data = {"evaluation_start": self.start, "evaluation_end": self.end, "committee_size": 5,
                "lines": [{"specialty": "A0201", "count": 3, "reserves": 1},
                          {"specialty": "D01", "count": 2, "reserves": 1}],
                "place": "评标室 3", "remote": False}
        data.update(overrides)
        return data


@pytest.fixture
def world(db, make_org, make_user):
    return World(make_org, make_user)


@pytest.fixture
def make_world(db, make_org, make_user):
    def make(**kwargs):
        return World(make_org, make_user, **kwargs)

    return make


@pytest.fixture
def make_expert(db, make_user):
    from experts.services.pool import expert_create

    def make(*specialties: str, employer=None, region: str = "330100", with_user: bool = False, email: str = "",
             **fields):
        n = next(_ids)
        user = make_user(Role.EXPERT, username=f"expert-u{n}") if with_user else None
        return expert_create(actor="system", name=fields.pop("name", f"专家{n}"),
                             id_number=id_number_with_check(f"1{n:016d}"),
                             phone=fields.pop("phone", f"139{n:08d}"), region=region,
                             specialties=list(specialties or ["A0201"]), employer=employer, user=user, email=email,
                             **fields)

    return make


@pytest.fixture
def pool(make_expert):
    """12 road experts and 8 cost experts (enough for 3+1 and 2+1 with room for redraws)."""
    return {"roads": [make_expert("A0201") for _ in range(12)], "cost": [make_expert("D0101") for _ in range(8)]}


@pytest.fixture
def draw_now(world):
    from experts.services.draws import draw_start

    def run(w=None, **overrides):
        w = w or world
        return draw_start(actor=w.agent, lot=w.lot, **w.request(**overrides))

    return run
