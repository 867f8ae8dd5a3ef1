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

Every event a client receives has id = previous id + 1. The consumer drops
duplicates and fills gaps from the database; a slow tail task re-reads the
stream every `tail_seconds`, which also carries events published by another
process when the channel layer is the in-memory one (embedded defaults).

Channel-layer outages (Redis down or restarted; docs/operations.md, "Faults and recovery"):
every channel-layer receive goes through `LayerReceiver`, which never raises. A failing
receive or group_add is logged and retried with a short backoff (`LAYER_RETRY_SECONDS`);
the socket stays open and keeps getting events from the database tail meanwhile. When the
layer answers again the receiver first re-joins its groups (a restarted Redis has lost
them), then resumes the push path: no process restart needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import transaction

from realtime.models import Stream
from realtime.streams import audience_allows, group_name, stream_events_since, stream_get

logger = logging.getLogger(__name__)
LAYER_RETRY_SECONDS = (0.25, 1.0)  # first retry, then every second while the layer is away


class LayerReceiver:
    """A channel-layer receive that survives layer outages (see the module docstring).

    `rejoin` re-adds the channel to its groups; it runs before the first receive after a
    failure (and whenever `needs_join` is set, e.g. when the group_add at connect failed).
    `down` is true from the first failure until the layer answers again."""

    def __init__(self, layer, channel: str, rejoin: Callable[[], Awaitable[None]], label: str) -> None:
        self.layer, self.channel, self.rejoin, self.label = layer, channel, rejoin, label
        self.down = False
        self.needs_join = False
        self.outages = 0

    def failed(self, what: str, exc: BaseException) -> None:
        self.needs_join = True
        if not self.down:
            self.down = True
            self.outages += 1
            logger.warning("channel layer %s failed for %s (%s: %s); falling back to the database stream",
                           what, self.label, type(exc).__name__, exc)

    def recovered(self) -> None:
        if self.down:
            self.down = False
            logger.warning("channel layer back for %s; push delivery resumed", self.label)

    async def join(self) -> bool:
        try:
            await self.rejoin()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed("group_add", exc)
            return False
        self.needs_join = False
        self.recovered()
        return True

    async def receive(self) -> dict:
        delay = LAYER_RETRY_SECONDS[0]
        while True:
            if self.needs_join and not await self.join():
                await asyncio.sleep(delay)
                delay = LAYER_RETRY_SECONDS[-1]
                continue
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failed("receive", exc)
                await asyncio.sleep(delay)
                delay = LAYER_RETRY_SECONDS[-1]
                continue
            self.recovered()
            return message


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
        """Re-add this socket's channel to its stream group (after a layer outage)."""
        if getattr(self, "key", None):
            await self.channel_layer.group_add(group_name(self.key), self.channel_name)

    # --- to override --------------------------------------------------------------
    def stream_key(self) -> str:
        raise NotImplementedError

    def may_connect(self, user: Any) -> bool:
        """Sync, runs in a thread: may this user watch the stream at all?"""
        raise NotImplementedError

    def build_state(self, user: Any) -> dict:
        """Sync, runs in a thread inside the snapshot transaction."""
        raise NotImplementedError

    async def handle_command(self, content: dict) -> None:
        await self.send_error("unknown_command", f"unknown message type {content.get('type')!r}")

    # --- lifecycle ------------------------------------------------------------------
    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.key = self.stream_key()
        self.last_sent = 0
        self._lock = asyncio.Lock()
        if not await database_sync_to_async(self._may_connect)():
            await self.close(code=4403)
            return
        if self._receiver is not None:
            await self._receiver.join()  # a layer outage: the receiver re-joins when it returns
        await self.accept()
        await self.send_snapshot()
        self._tail = asyncio.ensure_future(self._tail_loop())

    async def disconnect(self, code: int) -> None:
        tail = getattr(self, "_tail", None)
        if tail:
            tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tail
        if getattr(self, "key", None):
            with contextlib.suppress(Exception):  # the layer may be away; the group entry expires
                await self.channel_layer.group_discard(group_name(self.key), self.channel_name)

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
            await self.send_json({"type": "snapshot", "last_id": last_id, "state": state})

    async def stream_event(self, message: dict) -> None:
        """Group message from `stream_publish` (fast path)."""
        event = message["event"]
        async with self._lock:
            if event["id"] <= self.last_sent:
                return  # duplicate or already covered by a snapshot
            if event["id"] > self.last_sent + 1:
                await self._catch_up()  # a gap: the layer dropped something
                if event["id"] <= self.last_sent:
                    return
            await self._deliver(event)

    async def _catch_up(self) -> None:
        while True:
            missing = await database_sync_to_async(stream_events_since)(self.key, self.last_sent)
            for event in missing:
                await self._deliver(event)
            if len(missing) < 500:
                return

    async def _deliver(self, event: dict) -> None:
        if audience_allows(event.get("audience") or {}, self.user):
            await self.send_json({"type": "event", "id": event["id"], "kind": event["kind"],
                                  "payload": event["payload"], "at": event.get("at")})
        else:
            await self.send_json({"type": "redacted", "id": event["id"]})
        self.last_sent = event["id"]

    async def _tail_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tail_seconds)
            async with self._lock:
                await self._catch_up()

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})
