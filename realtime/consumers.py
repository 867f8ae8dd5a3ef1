"""Base WebSocket consumer for a persisted event stream.

Protocol (JSON messages, server → client):
  {"type": "snapshot", "last_id": N, "state": {...}}   on connect and on demand
  {"type": "event", "id": n, "kind": ..., "payload": {...}, "at": ...}
  {"type": "redacted", "id": n}   an event this user may not see (keeps ids gapless)
  {"type": "error", "code": ..., "message": ...}
client → server:
  {"type": "resync", "since": n}   re-send every event after n (client saw a gap)
  {"type": "snapshot"}             send a fresh snapshot
  plus the subclass's own commands (`handle_command`).

Every event a client receives has id = previous id + 1. Sockets are not members of the
stream's channel-layer group themselves: the process's `StreamHub` (realtime/hub.py) is, and
hands every event to its local sockets; the hub's tail re-reads the stream every `tail_seconds`
and feeds sockets that fell behind (which also carries events published by another process when
the channel layer is the in-memory one, the embedded default). Each socket drops duplicates and
fills gaps from the database.

Channel-layer outages (Redis down or restarted; docs/operations.md, "Faults and recovery"):
every channel-layer receive goes through `LayerReceiver` (realtime/receiver.py), which never
raises; the socket stays open and keeps getting events from the database tail meanwhile, and
the hub re-joins the group when the layer answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import transaction

from realtime.hub import StreamHub, hub_join, hub_leave
from realtime.models import Stream
from realtime.receiver import LayerReceiver
from realtime.streams import audience_allows, stream_events_since, stream_get


class StreamConsumer(AsyncJsonWebsocketConsumer):
    tail_seconds: float = 2.0
    user: Any = None
    _receiver: LayerReceiver | None = None

    # --- channel layer: channels' AsyncConsumer.__call__ sets `channel_receive` to the layer's
    # receive and ends the consumer (closing the socket) when it raises; route it through a
    # LayerReceiver instead.
    @property
    def channel_receive(self) -> Callable[[], Awaitable[dict]]:
        return self._receiver.receive  # type: ignore[union-attr]

    @channel_receive.setter
    def channel_receive(self, _layer_receive) -> None:
        self._receiver = LayerReceiver(self.channel_layer, self.channel_name, self.rejoin_groups,
                                       f"{type(self).__name__} {self.channel_name}")

    async def rejoin_groups(self) -> None:
        """A socket's own channel is in no group (the hub is): nothing to re-join."""

    # --- to override --------------------------------------------------------------
    def stream_key(self) -> str:
        raise NotImplementedError

    def may_connect(self, user: Any) -> bool:
        """Sync, runs in a thread: may this user watch the stream at all?"""
        raise NotImplementedError

    def build_state(self, user: Any) -> dict:
        """Sync, runs in a thread inside the snapshot transaction."""
        raise NotImplementedError

    async def identify(self) -> None:
        """Before `may_connect`: a subclass may resolve the scope's user (e.g. a token header)."""

    async def handle_command(self, content: dict) -> None:
        await self.send_error("unknown_command", f"unknown message type {content.get('type')!r}")

    @classmethod
    async def hub_tick(cls, hub: StreamHub) -> None:
        """Once per tail period per process and stream (not per socket); see realtime/hub.py."""

    @classmethod
    def hub_observe(cls, hub: StreamHub, event: dict) -> None:
        """Every event the process's hub receives, once, before the sockets (may be out of order)."""

    @classmethod
    def hub_snapshot(cls, hub: StreamHub, last_id: int, state: dict) -> None:
        """Every snapshot a socket of the process took (its state is this socket's view)."""

    # --- lifecycle ------------------------------------------------------------------
    async def connect(self) -> None:
        await self.identify()
        self.user = self.scope.get("user")
        self.key = self.stream_key()
        self.last_sent = 0
        self._lock = asyncio.Lock()
        if not await database_sync_to_async(self._may_connect)():
            await self.close(code=4403)
            return
        await hub_join(self)  # in the group before the snapshot: nothing published after it is missed
        await self.accept()
        await self.send_snapshot()

    async def disconnect(self, code: int) -> None:
        await hub_leave(self)

    async def receive_json(self, content: Any, **kwargs) -> None:
        if not isinstance(content, dict):
            await self.send_error("bad_message", "messages are JSON objects")
            return
        kind = content.get("type")
        if kind == "resync":
            since = content.get("since")
            if not isinstance(since, int) or since < 0:
                await self.send_error("bad_message", "resync needs a non-negative integer 'since'")
                return
            async with self._lock:
                self.last_sent = min(self.last_sent, since)
                await self._catch_up()
        elif kind == "snapshot":
            await self.send_snapshot()
        else:
            await self.handle_command(content)

    def _may_connect(self) -> bool:
        if getattr(self.user, "is_authenticated", False):
            self.user.roles  # noqa: B018 - loads the role cache here, not in the event loop
        return self.may_connect(self.user)

    # --- snapshot and events ------------------------------------------------------
    def _snapshot_sync(self) -> tuple[int, dict]:
        with transaction.atomic():
            stream_get(self.key)
            # Publishers lock this row to append; holding it makes state and last_id agree.
            stream = Stream.objects.select_for_update().get(key=self.key)
            return stream.last_id, self.build_state(self.user)

    async def send_snapshot(self) -> None:
        async with self._lock:
            last_id, state = await database_sync_to_async(self._snapshot_sync)()
            self.last_sent = last_id
            hub = getattr(self, "hub", None)
            if hub is not None:
                type(self).hub_snapshot(hub, last_id, state)
            await self.send_json({"type": "snapshot", "last_id": last_id, "state": state})

    async def stream_event(self, message: dict) -> None:
        """An event pushed through the channel layer (handed over by the hub)."""
        event = message["event"]
        async with self._lock:
            if event["id"] <= self.last_sent:
                return  # duplicate or already covered by a snapshot
            if event["id"] > self.last_sent + 1:
                await self._catch_up()  # a gap: the layer dropped something
                if event["id"] <= self.last_sent:
                    return
            await self._deliver(event)

    async def hub_event(self, message: dict) -> None:
        with contextlib.suppress(Exception):  # a socket closing meanwhile
            await self.stream_event(message)

    async def hub_feed(self, events: list[dict]) -> None:
        """Events the hub's tail read once for every socket behind (ascending ids)."""
        with contextlib.suppress(Exception):
            async with self._lock:
                for event in events:
                    if event["id"] == self.last_sent + 1:
                        await self._deliver(event)
                if events and events[-1]["id"] > self.last_sent:
                    await self._catch_up()

    async def _catch_up(self) -> None:
        while True:
            missing = await database_sync_to_async(stream_events_since)(self.key, self.last_sent)
            for event in missing:
                await self._deliver(event)
            if len(missing) < 500:
                return

    async def _deliver(self, event: dict) -> None:
        """Send one event; the frame is encoded once per event and audience verdict (the hub hands
        the same event object to every local socket)."""
        allowed = audience_allows(event.get("audience") or {}, self.user)
        frames = event.setdefault("_frames", {})
        text = frames.get(allowed)
        if text is None:
            body = ({"type": "event", "id": event["id"], "kind": event["kind"], "payload": event["payload"],
                     "at": event.get("at")} if allowed else {"type": "redacted", "id": event["id"]})
            text = frames[allowed] = json.dumps(body)
        await self.send(text_data=text)
        self.last_sent = event["id"]

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})


__all__ = ["LayerReceiver", "StreamConsumer"]
