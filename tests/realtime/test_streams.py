"""Persisted live streams: ids without gaps or duplicates, late joiners, dropped pushes."""

from unittest import mock

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.urls import path

from realtime import streams
from realtime.consumers import StreamConsumer
from realtime.models import StreamEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


class CounterConsumer(StreamConsumer):
    tail_seconds = 0.2

    def stream_key(self) -> str:
        return "test:" + self.scope["url_route"]["kwargs"]["name"]

    def may_connect(self, user) -> bool:
        return self.scope["url_route"]["kwargs"]["name"] != "forbidden"

    def build_state(self, user) -> dict:
        return {"total": sum(e.payload["n"] for e in StreamEvent.objects.filter(stream__key=self.key))}


application = URLRouter([path("ws/test/<name>/", CounterConsumer.as_asgi())])


@database_sync_to_async
def publish(n: int, *, key: str = "test:room", audience=streams.PUBLIC, push: bool = True):
    with transaction.atomic():
        if push:
            return streams.stream_publish(key=key, kind="added", payload={"n": n}, audience=audience)
        with mock.patch.object(streams, "_push"):
            return streams.stream_publish(key=key, kind="added", payload={"n": n}, audience=audience)


async def connect(name: str = "room", user=None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/test/{name}/")
    if user is not None:
        communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_events_arrive_in_order_and_late_joiner_gets_same_state():
    early = await connect()
    assert (await early.receive_json_from(timeout=30))["last_id"] == 0
    for n in (1, 2, 3):
        await publish(n)
    received = [await early.receive_json_from(timeout=30) for _ in range(3)]
    assert [m["id"] for m in received] == [1, 2, 3]
    assert sum(m["payload"]["n"] for m in received) == 6

    late = await connect()
    snapshot = await late.receive_json_from(timeout=30)
    assert snapshot == {"type": "snapshot", "last_id": 3, "state": {"total": 6}}
    await publish(4)
    assert (await late.receive_json_from(timeout=30))["id"] == 4
    assert (await early.receive_json_from(timeout=30))["id"] == 4
    await early.disconnect()
    await late.disconnect()


async def test_dropped_push_is_filled_from_the_database():
    client = await connect()
    await client.receive_json_from(timeout=30)
    await publish(10, push=False)  # the layer lost this one
    await publish(20)
    first, second = await client.receive_json_from(timeout=30), await client.receive_json_from(timeout=30)
    assert [first["id"], second["id"]] == [1, 2] and first["payload"] == {"n": 10}
    await client.disconnect()


async def test_event_published_without_any_push_arrives_by_the_tail():
    client = await connect()
    await client.receive_json_from(timeout=30)
    await publish(5, push=False)  # e.g. published by a worker process on the in-memory layer
    message = await client.receive_json_from(timeout=30)
    assert message["id"] == 1 and message["payload"] == {"n": 5}
    await client.disconnect()


async def test_resync_resends_after_given_id_without_duplicates():
    client = await connect()
    await client.receive_json_from(timeout=30)
    for n in (1, 2):
        await publish(n)
    assert [(await client.receive_json_from(timeout=30))["id"] for _ in range(2)] == [1, 2]
    await client.send_json_to({"type": "resync", "since": 0})
    assert [(await client.receive_json_from(timeout=30))["id"] for _ in range(2)] == [1, 2]
    await client.send_json_to({"type": "resync", "since": "x"})
    assert (await client.receive_json_from(timeout=30))["type"] == "error"
    assert await client.receive_nothing(timeout=0.5)
    await client.disconnect()


async def test_audience_filtering_keeps_ids_gapless(make_user):
    bidder = await database_sync_to_async(make_user)("bidder")
    other = await database_sync_to_async(make_user)("bidder")
    client = await connect(user=bidder)
    await client.receive_json_from(timeout=30)
    await publish(1, audience={"orgs": [other.organisation_id]})
    await publish(2, audience={"orgs": [bidder.organisation_id]})
    hidden, shown = await client.receive_json_from(timeout=30), await client.receive_json_from(timeout=30)
    assert hidden == {"type": "redacted", "id": 1}
    assert shown["type"] == "event" and shown["id"] == 2
    await client.disconnect()


async def test_forbidden_stream_closes_the_socket():
    communicator = WebsocketCommunicator(application, "/ws/test/forbidden/")
    connected, code = await communicator.connect()
    assert not connected and code == 4403
