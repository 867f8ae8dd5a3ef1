"""Fixtures of the auctions tests: a world of organisations with custodians, and a controllable clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

import sbe1
from auctions.reserve import seal_reserve
from tests.trading.custodians import make_custodians
from trading import clock


class Clock:
    def __init__(self, start: datetime) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kwargs) -> datetime:
        self.t += timedelta(**kwargs)
        return self.t

    def set(self, moment: datetime) -> datetime:
        self.t = moment
        return self.t


@pytest.fixture
def fake_clock(monkeypatch):
    c = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(clock, "now", c)
    return c


@dataclass
class World:
    agent: object
    transferor: object
    supervisor: object
    custodians: dict
    buyers: list = field(default_factory=list)  # users of buyer organisations
    outsider: object = None
    admin: object = None


@pytest.fixture
def world(make_user, make_org, fake_clock) -> World:
    agent_org = make_org("Agent Co")
    custodians = make_custodians(make_user, agent_org)
    agent = make_user("agent", org=agent_org)
    transferor = make_user("tenderer", org=make_org("Land Bureau"))
    supervisor = make_user("supervisor")
    buyers = [make_user("bidder", org=make_org(f"Buyer {i}", address=f"{i} Road")) for i in range(4)]
    return World(agent=agent, transferor=transferor, supervisor=supervisor, custodians=custodians, buyers=buyers,
                 outsider=make_user("bidder"), admin=make_user("platform_admin"))


def new_trade(world: World, *, kind: str = "land_listing", reserve: Decimal | str = "1000000.00",
              start_price="800000.00", increment="10000.00", deposit="100000.00", countdown: int = 300,
              publish: bool = True):
    from auctions.rules import rules_for
    from auctions.services.trades import trade_create, trade_publish, trade_reserve_seal

    now = clock.now()
    r = rules_for(kind)
    starts = r.notice_to_start.after(now) + timedelta(hours=1)
    listing_end = r.listing_period.after(starts) + timedelta(hours=1) if r.listing_period else None
    trade = trade_create(actor=world.agent, kind=kind, title="Parcel 2026-17", transferor=world.transferor.organisation,
                         start_price=start_price, increment=increment, deposit_amount=deposit, starts_at=starts,
                         listing_ends_at=listing_end, countdown_seconds=countdown)
    sealed = seal_reserve(reserve=reserve, trade=str(trade.public_id), opening_key=trade.opening_public_spki)
    trade = trade_reserve_seal(actor=world.transferor, trade=trade, sealed=sealed)
    if publish:
        trade = trade_publish(actor=world.agent, trade=trade)
    return trade


_txn = iter(range(10 ** 9))


def enrol(world: World, trade, users, *, pay: bool = True, payer: str | None = None):
    """Apply, qualify and pay the deposit for each user; returns their Buyer rows."""
    from auctions.services.buyers import buyer_apply, buyer_review, deposit_arrival_book

    out = []
    for user in users:
        docs = [{"name": "licence.pdf", "size": 10, "sha256": "a" * 64}]
        buyer = buyer_apply(actor=user, trade=trade, documents=docs)
        buyer_review(actor=world.agent, buyer=buyer, qualified=True)
        if pay:
            deposit_arrival_book(account_number=buyer.deposit_account, amount=trade.deposit_amount,
                                 payer_account=payer or user.organisation.basic_account_number,
                                 txn_id=f"T{next(_txn)}")
        buyer.refresh_from_db()
        out.append(buyer)
    return out


def release_shares(world: World, trade, roles=("agent", "supervisor")):
    from auctions.models import CustodianShare
    from auctions.services.ending import share_release

    for role in roles:
        user, private = world.custodians[role]
        row = CustodianShare.objects.get(trade=trade, custodian=user)
        released = sbe1.decrypt_share(row.container, private)
        share_release(actor=user, trade=trade, share=released.to_json_bytes().decode())
    trade.refresh_from_db()
    return trade
