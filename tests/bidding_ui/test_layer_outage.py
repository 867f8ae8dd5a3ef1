"""Channel-layer outages (issue 20, item 3): sockets stay open, events keep arriving from the
database stream, and push delivery resumes by itself when the layer returns.

`OutageLayer` is the in-memory layer with a switch: while down, every receive, group_add and
group_send raises ConnectionError (a pending receive too) and the groups are lost, as with a
restarted Redis. The real Redis outage is in tests/faults/.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.urls import path

from bidding_ui.routing import websocket_urlpatterns
from realtime import hub, receiver, streams
from tests.realtime.test_streams import CounterConsumer
from tests.trading.sealed import scenario
from trading.opening.room import room_key

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


class OutageLayer(InMemoryChannelLayer):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.down = False
        self._went_down = asyncio.Event()

    def go_down(self) -> None:
        self.down = True
        self.groups.clear()  # a restarted Redis has forgotten every group
        self._went_down.set()

    def come_back(self) -> None:
        self.down = False
        self._went_down = asyncio.Event()

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def receive(self, channel):
        self._check()
        got = asyncio.ensure_future(super().receive(channel))
        failed = asyncio.ensure_future(self._went_down.wait())
        done, pending = await asyncio.wait({got, failed}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if got in done:
            return got.result()
        raise ConnectionError("Connection closed by server.")

    async def group_add(self, group, channel):
        self._check()
        return await super().group_add(group, channel)

    async def group_send(self, group, message):
        self._check()
        return await super().group_send(group, message)


@pytest.fixture
def outage_layer(settings, monkeypatch):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.bidding_ui.test_layer_outage.OutageLayer"}}
    monkeypatch.setattr(receiver, "LAYER_RETRY_SECONDS", (0.05, 0.1))
    return get_channel_layer()


counter_app = URLRouter([path("ws/test/<name>/", CounterConsumer.as_asgi())])


@database_sync_to_async
def persist(key: str, n: int):
    """An event stored while the layer is away (the push fails and is logged)."""
    with transaction.atomic():
        return streams.stream_publish(key=key, kind="added", payload={"n": n}, audience=streams.PUBLIC)


async def push_only(layer, key: str, event_id: int, n: int) -> None:
    """A message only the push path can deliver: it is not in the database."""
    await layer.group_send(streams.group_name(key), {"type": "stream.event", "event": {
        "id": event_id, "kind": "added", "payload": {"n": n}, "audience": streams.PUBLIC, "at": None}})


async def eventually_pushed(layer, ws, key: str, event_id: int, timeout: float = 30.0) -> dict:
    """Push `event_id` until it arrives (the consumer re-joins its group shortly after recovery)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        await push_only(layer, key, event_id, 99)
        if not await ws.receive_nothing(timeout=0.2, interval=0.02):
            return await ws.receive_json_from(timeout=30)
    raise AssertionError("push delivery did not resume")


async def test_a_stream_socket_stays_open_through_an_outage_and_push_resumes(outage_layer):
    ws = WebsocketCommunicator(counter_app, "/ws/test/outage/")
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(timeout=30))["type"] == "snapshot"
    outage_layer.go_down()
    await asyncio.sleep(0.3)
    await persist("test:outage", 1)  # published during the outage: arrives from the database tail
    message = await ws.receive_json_from(timeout=30)
    assert message["type"] == "event" and message["id"] == 1
    outage_layer.come_back()
    pushed = await eventually_pushed(outage_layer, ws, "test:outage", 2)
    assert pushed["id"] == 2 and pushed["payload"] == {"n": 99}
    await ws.disconnect()


async def test_a_socket_can_connect_while_the_layer_is_down(outage_layer):
    outage_layer.go_down()
    ws = WebsocketCommunicator(counter_app, "/ws/test/during/")
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=30))["type"] == "snapshot"
    await persist("test:during", 5)
    assert (await ws.receive_json_from(timeout=30))["id"] == 1
    outage_layer.come_back()
    assert (await eventually_pushed(outage_layer, ws, "test:during", 2))["id"] == 2
    await ws.disconnect()


async def test_the_room_hub_falls_back_to_the_database_and_rejoins(outage_layer, make_org, make_user, monkeypatch):
    monkeypatch.setattr(hub, "DEGRADED_TAIL_SECONDS", 0.2)
    s = await database_sync_to_async(scenario)(make_org, make_user)
    key = room_key(s.tender.pk)
    room_app = URLRouter(websocket_urlpatterns)
    sockets = []
    for _ in range(2):
        ws = WebsocketCommunicator(room_app, f"/ws/opening/{s.tender.pk}/")
        ws.scope["user"] = s.supervisor
        assert (await ws.connect())[0]
        snapshot = await ws.receive_json_from(timeout=30)
        sockets.append(ws)
    last = snapshot["last_id"]
    outage_layer.go_down()
    await asyncio.sleep(0.3)
    await persist(key, 1)
    for ws in sockets:  # both sockets open, the event arrives from the database within the fallback poll
        message = await ws.receive_json_from(timeout=30)
        assert message["type"] == "event" and message["id"] == last + 1
    outage_layer.come_back()
    first = await eventually_pushed(outage_layer, sockets[0], key, last + 2)
    assert first["id"] == last + 2
    assert (await sockets[1].receive_json_from(timeout=30))["id"] == last + 2  # the hub fans out again
    for ws in sockets:
        await ws.disconnect()
