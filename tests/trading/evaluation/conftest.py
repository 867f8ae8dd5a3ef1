"""Evaluation fixtures: a tender in evaluation and a scripted panel and read-out (the clock, cast and
real tenders are shared fixtures, tests/fixtures/).

Most service tests run against `FakeSources`, which replaces the functions of
trading/evaluation/sources.py (the one seam to the opening and the expert drawing) with a
scripted panel and read-out, so that each test states its bids and members plainly. The
integration tests (test_integration.py) and the API flow use the real opening and drawing.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.fixtures.directory import _english, _media_root  # noqa: F401
from trading.evaluation import sources


@pytest.fixture(autouse=True)
def _opening_detached():
    """Keep the opening starter attached (overrides tests/trading/conftest.py): the integration tests
    and the API flow run the real opening."""


@dataclass
class FakeSources:
    """A scripted panel (seat → expert user) and read-out, installed over trading.evaluation.sources."""

    draw_id: int = 4242
    seats: int = 5
    rows: dict = field(default_factory=dict)  # lot id → [ReadoutRow]
    accepted: dict = field(default_factory=dict)  # assignment id → (seat, user)
    left: list = field(default_factory=list)  # (assignment id, reason)
    reveals: int = 0
    reveal_script: list = field(default_factory=list)  # Reveal outcomes to return first
    next_assignment: int = 1
    opened_at: object = None  # when the (scripted) opening closed: bidder names are public from then

    def seat(self, seat: int, user) -> int:
        aid = self.next_assignment
        self.next_assignment += 1
        self.accepted[aid] = (seat, user)
        return aid

    def readout_rows(self, lot):
        return list(self.rows.get(lot.pk, []))

    def panel_for(self, lot):
        return sources.Panel(draw_id=self.draw_id, seats=self.seats, revealed=self.reveals > 0)

    def seat_of(self, draw_id, user):
        for aid, (seat, u) in self.accepted.items():
            if u.pk == user.pk:
                return sources.PanelSeat(seat, aid, 1000 + u.pk, u.pk, f"Expert {u.username}", f"{aid:064x}")
        return None

    def draws_of_expert(self, user):
        return [self.draw_id] if any(u.pk == user.pk for _seat, u in self.accepted.values()) else []

    def accepted_assignments(self, draw_id):
        return set(self.accepted)

    def assignment_end_reason(self, assignment_id):
        return next((f"left: {r}" for a, r in self.left if a == assignment_id), "left")

    def reveal(self, draw_id):
        self.reveals += 1
        if self.reveal_script:
            return self.reveal_script.pop(0)
        return sources.Reveal(True)

    def leave(self, assignment_id, reason):
        self.accepted.pop(assignment_id, None)
        self.left.append((assignment_id, reason))

    def bidders_public(self, tender):
        if self.opened_at is None:
            return None
        return sorted({r.bidder_id for lot in tender.lots.all() for r in self.rows.get(lot.pk, [])})

    def opening_closed_at(self, tender):
        return self.opened_at

    def install(self, monkeypatch) -> FakeSources:
        for name in ("readout_rows", "panel_for", "seat_of", "accepted_assignments", "assignment_end_reason",
                     "reveal", "leave", "bidders_public", "opening_closed_at", "draws_of_expert"):
            monkeypatch.setattr(sources, name, getattr(self, name))
        return self


class World:
    """A works tender in evaluation (opening closed) with one lot, four bidders, its agent and tenderer,
    a supervisor, a member of the public and seven expert accounts."""

    def __init__(self, make_org, make_user, *, method: str, procedure_type: str = "works"):
        from trading.models import Lot, Tender, TenderStatus

        now = timezone.now()
        self.tenderer_org = make_org("City Works Bureau")
        self.agent_org = make_org("Agent Consulting Co")
        self.agent = make_user("agent", org=self.agent_org)
        self.tenderer = make_user("tenderer", org=self.tenderer_org)
        self.supervisor = make_user("supervisor")
        self.citizen = make_user()
        self.bidders = [make_user("bidder", org=make_org(f"Bidder {c} Ltd")) for c in "ABCD"]
        self.experts = [make_user("expert", username=f"expert-{i}-{id(self) % 100000}") for i in range(1, 8)]
        n = World.counter = getattr(World, "counter", 0) + 1
        self.tender = Tender.objects.create(
            code=f"GC-EVAL-{n:05d}", title=f"Bridge repair {n}", tenderer=self.tenderer_org, agent=self.agent_org,
            created_by=self.agent, procedure_type=procedure_type, evaluation_method=method,
            readout_items=["price", "duration_days"], bid_deadline=now - timedelta(hours=2),
            status=TenderStatus.EVALUATING, published_at=now - timedelta(days=25),
            documents_issued_at=now - timedelta(days=25), bidding_closed_at=now - timedelta(hours=2))
        self.lot = Lot.objects.create(tender=self.tender, number=1, title="Lot 1",
                                      estimated_price=Decimal("5000000.00"))


@pytest.fixture
def make_world(db, make_org, make_user):
    def make(method: str = "lowest_evaluated_price", **kw) -> World:
        return World(make_org, make_user, method=method, **kw)

    return make


def readout(world, prices, *, minutes=(0, 5, 10, 15)) -> list:
    base = world.tender.bid_deadline - timedelta(hours=1)
    rows = []
    for i, (user, price) in enumerate(zip(world.bidders, prices, strict=False)):
        rows.append(sources.ReadoutRow(
            bid_ref=None, registration_id=None, bidder_id=user.organisation_id, price=Decimal(price), currency="CNY",
            readout={"price": price, "duration_days": 180 + i}, received_at=base + timedelta(minutes=minutes[i]),
            envelope_sha256=f"{i + 1:x}" * 64))
    return rows


@pytest.fixture
def fake(monkeypatch):
    return FakeSources().install(monkeypatch)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test (the validation must be offline)."""

    def refuse(self, address, *args, **kwargs):
        raise AssertionError(f"network access attempted: {address!r}")

    def resolve(host, *args, **kwargs):
        raise AssertionError(f"name resolution attempted: {host!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
