"""The reserve cannot be read before the end: as every role, and as the platform with database access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

import sbe1
from auctions import reserve as sealing
from auctions.models import CustodianShare, TradeStatus
from auctions.selectors import room_state, trade_public
from auctions.services.bidding import bid_place, trade_advance
from auctions.services.ending import share_release
from config.errors import StateConflict
from tests.auctions.conftest import enrol, new_trade, release_shares

pytestmark = pytest.mark.django_db

RESERVE = "987654.32"
NEEDLES = ("987654.32", "98765432", "987654")


def _every_row_text() -> str:
    """Every row of every table, as the database administrator reads it."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from introspection
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def _running_trade(world, fake_clock):
    trade = new_trade(world, reserve=RESERVE, start_price="500000.00", increment="1000.00")
    buyers = enrol(world, trade, world.buyers[:2])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="500000.00")
    trade.refresh_from_db()
    assert trade.status == TradeStatus.LISTING
    return trade


def test_no_role_reads_the_reserve_before_the_end(world, fake_clock, api):
    trade = _running_trade(world, fake_clock)
    users = [world.agent, world.transferor, world.supervisor, world.outsider, world.admin, *world.buyers,
             *(u for u, _k in world.custodians.values())]
    for user in users:
        for text in (repr(room_state(user=user, trade=trade)), repr(trade_public(trade))):
            assert not any(n in text for n in NEEDLES), user
        for url in (f"/api/v1/auctions/{trade.public_id}", f"/api/v1/auctions/{trade.public_id}/room"):
            response = api.as_user(user).get(url)
            assert response.status_code in (200, 404), (url, response.status_code)
            assert not any(n in response.content.decode() for n in NEEDLES), (user, url)
    anonymous = api.__class__()
    body = anonymous.get(f"/api/v1/auctions/{trade.public_id}").content.decode()
    assert trade.code in body and not any(n in body for n in NEEDLES)
    # Custodians cannot release their shares (so nobody can gather k of them) before the end.
    for user, private in world.custodians.values():
        row = CustodianShare.objects.get(trade=trade, custodian=user)
        share = sbe1.decrypt_share(row.container, private).to_json_bytes().decode()
        with pytest.raises(StateConflict) as err:
            share_release(actor=user, trade=trade, share=share)
        assert err.value.code == "not_closed"


def test_the_database_does_not_hold_the_reserve(world, fake_clock):
    trade = _running_trade(world, fake_clock)
    dump = _every_row_text()
    assert not any(n in dump for n in NEEDLES)
    # What the database holds (public key, encrypted shares, the sealed reserve) does not open it:
    # no private key is stored, and a key the operator makes is not the opening key.
    assert "PRIVATE" not in dump
    with pytest.raises(sbe1.DecryptionError):
        sealing.open_reserve(trade.reserve_sealed, private_key=sbe1.generate_private_key(),
                             trade=str(trade.public_id))
    # One custodian's share alone (below the threshold) rebuilds a different key.
    user, private = world.custodians["platform"]
    row = CustodianShare.objects.get(trade=trade, custodian=user)
    one = sbe1.decrypt_share(row.container, private)
    with pytest.raises(sbe1.SBE1Error):
        sbe1.combine_released([one])


def test_an_operator_cannot_swap_the_sealed_reserve(world, fake_clock):
    """A database administrator who re-seals a lower reserve to the public key is detected at the end."""
    trade = _running_trade(world, fake_clock)
    forged = sealing.seal_reserve(reserve="1.00", trade=str(trade.public_id), opening_key=trade.opening_public_spki)
    type(trade).objects.filter(pk=trade.pk).update(reserve_sealed=forged,
                                                   reserve_sealed_sha256=sealing.sealed_sha256(forged))
    fake_clock.set(trade.listing_ends_at + timedelta(seconds=1))
    trade = trade_advance(trade=trade)
    with pytest.raises(StateConflict) as err:
        release_shares(world, trade)
    assert err.value.code == "reserve_tampered"


def test_the_reserve_opens_after_the_end(world, fake_clock):
    trade = _running_trade(world, fake_clock)
    fake_clock.set(trade.listing_ends_at + timedelta(seconds=1))
    trade = release_shares(world, trade_advance(trade=trade))
    assert str(trade.reserve) == RESERVE and trade.status == TradeStatus.NOT_SOLD
    assert RESERVE in repr(trade_public(trade))
