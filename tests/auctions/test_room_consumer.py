"""The live bidding room over WebSocket: bids through the socket, refusals with server time, every
client folding events to the state a fresh snapshot gives (reconnect / late join), numbers hidden."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from auctions.room import apply_event
from bidding_ui.routing import websocket_urlpatterns
from tests.auctions.conftest import enrol, new_trade

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
application = URLRouter(websocket_urlpatterns)
VOLATILE = ("server_time", "trade")


class Client:
    def __init__(self, user, trade):
        self.user, self.trade = user, trade
        self.state, self.last_id, self.ref = None, 0, 0

    async def connect(self):
        self.ws = WebsocketCommunicator(application, f"/ws/auctions/{self.trade.public_id}/")
        self.ws.scope["user"] = self.user
        connected, _ = await self.ws.connect()
        assert connected
        snap = await self.ws.receive_json_from(timeout=5)
        assert snap["type"] == "snapshot"
        self.state, self.last_id = snap["state"], snap["last_id"]
        return self

    def handle(self, m):
        if m["type"] == "event":
            assert m["id"] == self.last_id + 1
            self.last_id = m["id"]
            apply_event(self.state, m["kind"], m["payload"])

    async def pump(self):
        while not await self.ws.receive_nothing(timeout=0.3, interval=0.02):
            self.handle(await self.ws.receive_json_from(timeout=5))

    async def bid(self, amount):
        self.ref += 1
        await self.ws.send_json_to({"type": "bid", "ref": self.ref, "amount": amount, "key": f"k{self.ref}"})
        while True:
            m = await self.ws.receive_json_from(timeout=10)
            self.handle(m)
            if m["type"] in ("ack", "error") and m.get("ref") == self.ref:
                return m

    def room(self):
        return {k: v for k, v in self.state.items() if k not in VOLATILE}


async def test_room_bids_resync_and_hidden_numbers(world, fake_clock):
    trade = await sync_to_async(new_trade)(world, kind="land_auction", countdown=60)
    buyers = await sync_to_async(enrol)(world, trade, world.buyers[:3])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    clients = [await Client(u, trade).connect() for u in world.buyers[:3]]
    sup = await Client(world.supervisor, trade).connect()
    assert sup.state["numbers"] and set(sup.state["numbers"]) == {b.number for b in buyers}
    assert all(c.state["numbers"] is None for c in clients)
    ok = await clients[0].bid("800000.00")
    assert ok["type"] == "ack" and ok["result"]["receipt"]["signature"]
    low = await clients[1].bid("800000.00")
    assert low["type"] == "error" and low["code"] == "bid_too_low" and "server_time" in low["fields"]
    fake_clock.advance(seconds=30)
    assert (await clients[1].bid("810000.00"))["type"] == "ack"
    fake_clock.advance(seconds=59)
    assert (await clients[2].bid("820000.00"))["type"] == "ack"
    late_joiner = await Client(world.buyers[0], trade).connect()  # joins mid-round
    fake_clock.advance(seconds=61)
    expired = await clients[0].bid("900000.00")
    assert expired["type"] == "error" and expired["code"] == "bid_expired"
    from auctions.services.bidding import trade_advance

    await sync_to_async(trade_advance)(trade=trade)  # as the sweep (or a room's tail) does
    for c in [*clients, sup, late_joiner]:
        await c.pump()
    fresh = [await Client(u, trade).connect() for u in world.buyers[:3]]
    for before, after in zip(clients, fresh, strict=True):
        assert before.room() == after.room()  # reconnect: identical state
        assert before.state["history"][-1]["number"] == buyers[2].number
    assert late_joiner.room() == fresh[0].room()
    assert fresh[2].state["me"]["holding"] and not fresh[0].state["me"]["holding"]
    for c in [*clients, sup, late_joiner, *fresh]:
        await c.ws.disconnect()


async def test_outsider_is_refused(world, fake_clock):
    trade = await sync_to_async(new_trade)(world)
    ws = WebsocketCommunicator(application, f"/ws/auctions/{trade.public_id}/")
    ws.scope["user"] = world.outsider
    connected, code = await ws.connect()
    assert not connected or code == 4403
    await ws.disconnect()


async def test_the_room_closes_an_expired_round_by_itself_with_one_group_member(world, fake_clock, monkeypatch):
    """No sweep: the process's stream hub sees the deadline pass and closes the round (once per
    process, not once per socket); the sockets share one channel-layer group membership."""
    from channels.layers import get_channel_layer

    from auctions.consumers import AuctionRoomConsumer
    from auctions.models import Trade
    from realtime import streams
    from realtime.hub import running_hubs

    monkeypatch.setattr(AuctionRoomConsumer, "tail_seconds", 0.2)
    calls = []
    import auctions.consumers as room_module

    real_advance = room_module._advance
    monkeypatch.setattr(room_module, "_advance", lambda pk: (calls.append(pk), real_advance(pk)))
    trade = await sync_to_async(new_trade)(world, kind="land_auction", countdown=60)
    await sync_to_async(enrol)(world, trade, world.buyers[:3])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    clients = [await Client(u, trade).connect() for u in world.buyers[:3]]
    assert (await clients[0].bid("800000.00"))["type"] == "ack"
    for c in clients:
        await c.pump()
    layer, group = get_channel_layer(), streams.group_name(f"auction:{trade.public_id}")
    if hasattr(layer, "groups"):  # in-memory layer
        members = len(layer.groups[group])
    else:  # channels-redis: the group is a sorted set of channel names
        members = await layer.connection(layer.consistent_hash(group)).zcard(layer._group_key(group))
    assert members == 1
    assert len(running_hubs()) == 1 and len(running_hubs()[0].members) == 3
    fake_clock.advance(seconds=61)
    for c in clients:
        await c.pump()
        await c.pump()
    assert all(c.state["status"] == "closed" for c in clients)
    assert (await sync_to_async(Trade.objects.get)(pk=trade.pk)).status in ("closed", "not_sold", "sold")
    assert len(calls) <= 2  # one call per tick, not one per socket
    for c in clients:
        await c.ws.disconnect()
    assert not running_hubs()


async def test_the_room_refuses_offers_below_what_it_delivered_without_the_database(world, fake_clock):
    """In a timed round an offer below the minimum the room has delivered is refused by the consumer
    (no lock, no query); a keyed retry of the buyer's own accepted amount still gets its bid back."""
    from unittest import mock

    import auctions.consumers as room_module

    trade = await sync_to_async(new_trade)(world, kind="land_auction", countdown=60)
    await sync_to_async(enrol)(world, trade, world.buyers[:3])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    clients = [await Client(u, trade).connect() for u in world.buyers[:3]]
    first = await clients[0].bid("800000.00")  # key k1
    assert first["type"] == "ack"
    assert (await clients[1].bid("810000.00"))["type"] == "ack"
    for c in clients:
        await c.pump()
    with mock.patch.object(room_module, "run_command", side_effect=AssertionError("database used")):
        low = await clients[2].bid("810000.00")
    assert low["type"] == "error" and low["code"] == "bid_too_low"
    assert low["fields"]["minimum"] == "820000.00" and low["fields"]["server_time"]
    # The same amount and key as client 0's accepted bid: the service answers with that bid.
    clients[0].ref = 0
    again = await clients[0].bid("800000.00")
    assert again["type"] == "ack" and again["result"]["replayed"] is True
    # Near the deadline the service decides (the room's margin).
    fake_clock.advance(seconds=59, milliseconds=500)
    with mock.patch.object(room_module, "run_command", wraps=room_module.run_command) as used:
        near = await clients[2].bid("810000.00")
    assert near["type"] == "error" and near["code"] == "bid_too_low" and used.called
    for c in clients:
        await c.ws.disconnect()


async def test_the_rooms_book_catches_up_on_a_bid_the_push_lost(world, fake_clock, monkeypatch):
    from unittest import mock

    import auctions.consumers as room_module
    from auctions.consumers import AuctionRoomConsumer
    from auctions.services.bidding import bid_place
    from realtime import streams

    monkeypatch.setattr(AuctionRoomConsumer, "tail_seconds", 0.2)
    trade = await sync_to_async(new_trade)(world, kind="land_auction", countdown=60)
    buyers = await sync_to_async(enrol)(world, trade, world.buyers[:3])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    clients = [await Client(u, trade).connect() for u in world.buyers[:3]]
    assert (await clients[0].bid("800000.00"))["type"] == "ack"

    def lost_push_bid():
        with mock.patch.object(streams, "_push"):  # committed, never pushed: the tail must bring it
            bid_place(actor=world.buyers[1], buyer=buyers[1], amount="810000.00")

    await sync_to_async(lost_push_bid)()
    for c in clients:
        await c.pump()
        await c.pump()
    assert clients[2].state["price"] == "810000.00"
    with mock.patch.object(room_module, "run_command", side_effect=AssertionError("database used")):
        low = await clients[2].bid("810000.00")
    assert low["type"] == "error" and low["code"] == "bid_too_low" and low["fields"]["minimum"] == "820000.00"
    for c in clients:
        await c.ws.disconnect()
