"""A full opening driven through WebSocket clients, with a late joiner reaching the same final state.

Every client applies the snapshot and then the events by id (trading/opening/room.py
`apply_event`, the same rules as room.js); at the end each client's state equals
`room_state(user)` (what a snapshot gives) and a late joiner's snapshot equals what the
early clients built from events. Ids are checked to be gapless and without duplicates.
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from bidding_ui.routing import websocket_urlpatterns
from realtime import streams
from realtime.streams import stream_last_id
from tests.trading.sealed import dek_of, pass_deadline, scenario, submit
from trading.models import Opening
from trading.opening.room import apply_event, room_key, room_state

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
application = URLRouter(websocket_urlpatterns)


class RoomClient:
    def __init__(self, name: str, user, tender_id: int):
        self.name, self.user, self.tender_id = name, user, tender_id
        self.state: dict | None = None
        self.last_id = 0
        self.acks: list[dict] = []
        self.errors: list[dict] = []
        self.redacted = 0

    async def connect(self):
        self.ws = WebsocketCommunicator(application, f"/ws/opening/{self.tender_id}/")
        self.ws.scope["user"] = self.user
        connected, _ = await self.ws.connect()
        assert connected, self.name
        snapshot = await self.ws.receive_json_from(timeout=30)
        assert snapshot["type"] == "snapshot"
        self.state, self.last_id = snapshot["state"], snapshot["last_id"]
        return self

    def _handle(self, message: dict) -> None:
        kind = message["type"]
        if kind in ("event", "redacted"):
            assert message["id"] == self.last_id + 1, (self.name, message["id"], self.last_id)
            self.last_id = message["id"]
            if kind == "event":
                apply_event(self.state, message["kind"], message["payload"])
            else:
                self.redacted += 1
        elif kind == "ack":
            self.acks.append(message)
        elif kind == "error":
            self.errors.append(message)
        elif kind == "snapshot":
            self.state, self.last_id = message["state"], message["last_id"]

    async def pump_to(self, target: int, quiet: float) -> None:
        """Apply events until `target` (the stream's last id when asked), then whatever else is waiting.
        Waiting for the id, not for a quiet spell, keeps a slow machine from ending the pump early."""
        while self.last_id < target:
            self._handle(await self.ws.receive_json_from(timeout=60))
        await self.pump(quiet)

    async def pump(self, quiet: float = 0.3) -> None:
        """Apply everything that arrives until the socket is quiet for `quiet` seconds."""
        # receive_nothing does not cancel the application on timeout (receive_json_from would).
        while not await self.ws.receive_nothing(timeout=quiet, interval=0.02):
            self._handle(await self.ws.receive_json_from(timeout=30))

    async def command(self, **content) -> dict:
        await self.ws.send_json_to(content)
        while True:
            message = await self.ws.receive_json_from(timeout=10)
            self._handle(message)
            if message["type"] in ("ack", "error") and message.get("command") == content["type"]:
                return message

    async def close(self):
        await self.ws.disconnect()


async def pump_all(clients, quiet: float = 0.05):
    """Every client applies the room's events up to the last one published."""
    target = await database_sync_to_async(stream_last_id)(room_key(clients[0].tender_id))
    await asyncio.gather(*(c.pump_to(target, quiet) for c in clients))


async def test_full_opening_over_websockets_with_a_late_joiner(make_org, make_user, settings, tmp_path, clock):
    settings.MEDIA_ROOT = tmp_path
    s = await database_sync_to_async(scenario)(make_org, make_user)
    tender = s.tender
    prices = ["3000000.00", "2500000.00", "2750000.00"]
    bids = [await database_sync_to_async(submit)(s.lot, b, price=p) for b, p in zip(s.bidders, prices, strict=True)]

    host = await RoomClient("host", s.agent, tender.pk).connect()
    bidders = [await RoomClient(f"bidder{i}", b.user, tender.pk).connect() for i, b in enumerate(s.bidders)]
    supervisor = await RoomClient("supervisor", s.supervisor, tender.pk).connect()
    public = await RoomClient("public", AnonymousUser(), tender.pk).connect()
    custodian = await RoomClient("custodian", s.custodians["platform"][0], tender.pk).connect()
    early = [host, *bidders, supervisor, public, custodian]
    assert host.state["state"] == "waiting" and "bids" not in host.state  # nothing about bids before the deadline

    await database_sync_to_async(pass_deadline)(clock, tender)
    await pump_all(early)
    assert host.state["state"] == "signing_in" and len(host.state["bids"]) == 3
    assert public.state["state"] == "signing_in" and "bids" not in public.state and public.redacted > 0

    refused = await bidders[0].command(type="release_dek", bid=bids[0]["id"], dek="A" * 43 + "=")
    assert refused["type"] == "error" and refused["code"] == "wrong_phase"
    for client in bidders:
        assert (await client.command(type="sign_in"))["type"] == "ack"
    assert (await bidders[0].command(type="advance"))["code"] == "permission_denied"
    assert (await host.command(type="advance"))["result"] == {"state": "decrypting"}
    await pump_all(early)
    assert set(host.state["signins"]) == {str(b.org_id) for b in s.bidders}
    # Each bidder sees its own decryption controls only.
    for client, b in zip(bidders, s.bidders, strict=True):
        assert list(client.state["private"]) == [str(b.org_id)]
    assert len(supervisor.state["private"]) == 3 and "private" not in host.state

    for client, b, bid in zip(bidders, s.bidders, bids, strict=True):
        dek = await sync_to_async(dek_of)(b, b.envelopes[bid["id"]])
        ack = await client.command(type="release_dek", bid=bid["id"], dek=dek)
        assert ack["type"] == "ack" and ack["result"]["status"] == "decrypted", ack
        await pump_all(early)
        assert host.state["readout"][str(bid["id"])]["items"]["price"] == prices[bids.index(bid)]
    await pump_all(early)
    assert host.state["state"] == "confirming"
    assert "readout" not in public.state  # published only with the record

    ack = await bidders[1].command(type="raise_objection", text="Bidder 3's duration looks misread.")
    objection = ack["result"]["objection"]
    for client in bidders[:2]:
        assert (await client.command(type="confirm"))["type"] == "ack"
    await database_sync_to_async(_end_phase)(clock, tender)  # bidder 3 absent: deemed to accept
    await pump_all(early)
    assert host.state["state"] == "objections"
    assert host.state["confirmations"][str(s.bidders[2].org_id)]["kind"] == "deemed"
    refused = await host.command(type="close")
    assert refused["type"] == "error" and refused["code"] == "objection_open"
    await host.command(type="answer_objection", objection=objection, answer="It reads 180 days, as sealed.")
    assert (await host.command(type="close"))["result"] == {"state": "closed"}
    await pump_all(early)

    # Every early client's event-built state equals its snapshot state.
    for client in early:
        expected = await database_sync_to_async(_state)(tender, client.user)
        assert client.state == expected, client.name
    assert public.state["state"] == "closed" and len(public.state["readout"]) == 3 and public.state["record"]
    opening = await database_sync_to_async(Opening.objects.get)(tender=tender)
    assert host.state["record"]["sha256"] == opening.record_sha256

    # Late joiners get the same final state as the early clients built from events.
    late_bidder = await database_sync_to_async(make_user)("bidder", org=s.bidders[1].org)
    late = {
        "host": await RoomClient("late host", s.agent, tender.pk).connect(),
        "bidder1": await RoomClient("late bidder", late_bidder, tender.pk).connect(),
        "supervisor": await RoomClient("late supervisor", s.supervisor, tender.pk).connect(),
        "public": await RoomClient("late public", AnonymousUser(), tender.pk).connect(),
    }
    assert late["host"].state == host.state and late["host"].last_id == host.last_id
    assert late["bidder1"].state == bidders[1].state
    assert late["supervisor"].state == supervisor.state
    assert late["public"].state == public.state
    # A client that resyncs from an earlier id re-applies the same events to the same result.
    replay = await RoomClient("replayer", s.supervisor, tender.pk).connect()
    replay.state, replay.last_id = {"tender": supervisor.state["tender"]}, 0
    await replay.ws.send_json_to({"type": "resync", "since": 0})
    await replay.pump_to(supervisor.last_id, 0.05)
    assert replay.last_id == supervisor.last_id and replay.state == supervisor.state
    for client in [*early, *late.values(), replay]:
        assert not [e for e in client.errors if e.get("command") is None], client.errors
        await client.close()


def _state(tender, user):
    tender.refresh_from_db()
    return room_state(tender=tender, user=user)


def _end_phase(clock, tender):
    from tests.trading.sealed import end_phase

    end_phase(clock, tender)


async def test_shared_tail_delivers_events_the_layer_never_carried(make_org, make_user, monkeypatch):
    """One database poll per room feeds every socket that missed an event (e.g. published by the
    Celery worker on the in-memory layer, or dropped by a full channel)."""
    from unittest import mock

    from django.db import transaction

    from bidding_ui.consumers.opening import OpeningRoomConsumer
    from realtime.hub import running_hubs

    monkeypatch.setattr(OpeningRoomConsumer, "tail_seconds", 0.2)
    s = await database_sync_to_async(scenario)(make_org, make_user, bidders=0)
    clients = [await RoomClient(f"c{i}", AnonymousUser(), s.tender.pk).connect() for i in range(3)]

    @database_sync_to_async
    def publish_without_push():
        with transaction.atomic(), mock.patch.object(streams, "_push"):
            streams.stream_publish(key=room_key(s.tender.pk), kind="phase", audience=streams.PUBLIC,
                                   payload={"state": "signing_in", "phase_started_at": None, "phase_ends_at": None})

    await publish_without_push()
    await pump_all(clients, quiet=1.0)
    for client in clients:
        assert client.last_id == 1 and client.state["state"] == "signing_in", client.name
        await client.close()
    assert not running_hubs()  # the last socket stopped the room's hub
