"""Market access (docs/credit.md): a barred buyer organisation can neither apply to a trade nor bid in it,
with the record named; the bar ends by itself."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auctions.services.bidding import bid_place
from auctions.services.buyers import buyer_apply
from credit.rules import RecordKind
from credit.services import AccessBarred, record_decide, record_propose
from tests.auctions.conftest import enrol, new_trade

pytestmark = pytest.mark.django_db
DOCS = [{"name": "licence.pdf", "size": 10, "sha256": "a" * 64}]


def _bar(world, org, now):
    record = record_propose(kind=RecordKind.REFUSED_TO_SIGN, organisation=org, facts="did not sign", at=now)
    return record_decide(actor=world.supervisor, record=record, publish=True, reason="confirmed", at=now)


def test_barred_buyer_cannot_apply_then_may_after_the_bar(world, fake_clock):
    trade = new_trade(world)
    barred = world.buyers[3]
    record = _bar(world, barred.organisation, fake_clock())
    with pytest.raises(AccessBarred, match=record.number):
        buyer_apply(actor=barred, trade=trade, documents=DOCS)
    fake_clock.set(record.bar_until + timedelta(seconds=1))
    later = new_trade(world)
    assert buyer_apply(actor=barred, trade=later, documents=DOCS).organisation_id == barred.organisation_id


def test_a_bar_decided_during_the_trade_stops_bidding(world, fake_clock):
    trade = new_trade(world)
    buyers = enrol(world, trade, world.buyers[:2])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="800000.00")
    record = _bar(world, world.buyers[1].organisation, fake_clock())
    with pytest.raises(AccessBarred, match=record.number):
        bid_place(actor=world.buyers[1], buyer=buyers[1], amount="810000.00")
