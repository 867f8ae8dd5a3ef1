"""Trading fixtures: the cast of a tender, a movable clock, and tenders in useful states."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from tests.trading.custodians import make_custodians
from tests.trading.helpers import pdf
from trading import clock as trading_clock


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _english():
    """Service messages in English, whatever catalogs exist (assertions read English text)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _opening_detached(monkeypatch):
    """The tendering tests check the bid_deadline step alone (the tender stays bidding_closed):
    the sealed-bid opening starter is detached here. tests/trading/bids/ and tests/trading/opening/
    override this fixture to keep it."""
    from trading.opening.steps import start_opening
    from trading.services import opening_hook

    monkeypatch.setattr(opening_hook, "_STARTERS", [s for s in opening_hook._STARTERS if s is not start_opening])


class MovableClock:
    """Replaces trading.clock.now: real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self):
        return timezone.now() + self.offset

    def advance(self, **kwargs) -> None:
        self.offset += timedelta(**kwargs)

    def move_to(self, moment) -> None:
        self.offset = moment - timezone.now()


@pytest.fixture
def clock(monkeypatch):
    c = MovableClock()
    monkeypatch.setattr(trading_clock, "now", c.now)
    return c


@pytest.fixture
def cast(make_org, make_user):
    """Tenderer, agent, three bidders, a supervisor: organisations and users."""

    class Cast:
        pass

    c = Cast()
    c.tenderer_org = make_org("Tenderer City Works Bureau")
    c.agent_org = make_org("Agent Consulting Co")
    c.tenderer = make_user("tenderer", org=c.tenderer_org, username="tenderer")
    c.agent = make_user("agent", org=c.agent_org, username="agent")
    c.bidder_orgs = [make_org(f"Bidder {i} Ltd") for i in (1, 2, 3)]
    c.bidders = [make_user("bidder", org=o, username=f"bidder{i}") for i, o in enumerate(c.bidder_orgs, 1)]
    c.supervisor = make_user("supervisor", username="supervisor")
    c.public_user = make_user(username="citizen")
    # Custodians with registered keys: publishing runs the opening key ceremony (trading/bids/ceremony.py).
    c.custodians = make_custodians(make_user, c.agent_org)
    return c


@pytest.fixture
def make_draft(cast):
    """A draft with one lot (deposit within 2 %) and one document, deadline 30 days away."""
    from trading import clock as c
    from trading.services.documents import document_upload
    from trading.services.tenders import lot_create, tender_create

    def make(
        procedure_type: str = "works",
        deadline_in=timedelta(days=30),
        estimated_price=Decimal("10000000.00"),
        deposit=Decimal("100000.00"),
        document: bool = True,
        **fields,
    ):
        tender = tender_create(
            actor=cast.agent,
            title=fields.pop("title", "Road resurfacing 2026"),
            tenderer=cast.tenderer_org,
            procedure_type=procedure_type,
            bid_deadline=c.now() + deadline_in,
            readout_items=["duration_days"],
            **fields,
        )
        lot_create(
            actor=cast.agent, tender=tender, title="Lot 1", estimated_price=estimated_price, deposit_amount=deposit
        )
        if document:
            document_upload(actor=cast.agent, tender=tender, file=pdf())
        return tender

    return make


@pytest.fixture
def published(make_draft, cast):
    """A published works tender, deadline 30 days away."""
    from trading.services.tenders import tender_publish

    tender = make_draft()
    tender_publish(actor=cast.agent, tender=tender)
    tender.refresh_from_db()
    return tender
