"""Process-local fan-out of a persisted stream: one hub per (event loop, consumer class, stream).

A room may have a thousand sockets in one server process. Instead of one channel-layer message
per socket (each socket a member of the stream's group: with channels-redis, one Redis list entry
and one receive per socket and event), each process joins the stream's group once, with the
hub's channel, and hands every event to its local sockets; each socket still filters by
audience, drops duplicates and fills gaps from the database (realtime/consumers.py), and the JSON
frame of an event is encoded once per audience verdict, not once per socket.

The hub also owns the database tail: one poll of the stream's last id per stream and process
every `tail_seconds` (the consumer class's). Sockets behind it are fed from one read of the
missing events. On a cross-process layer (Redis) a socket counts as behind when it misses an id
the previous poll saw already (the layer had a whole period to deliver it); on the in-memory
layer events published by another process (e.g. a Celery worker) arrive only this way, so at once.
The layer stays a fast path: the database is the record.

Layer outages (Redis down or restarted): the hub's receive goes through `LayerReceiver`, so it
never dies; while the layer is away the hub polls the database every `DEGRADED_TAIL_SECONDS` and
hands every new event to the sockets (they stay open); when the layer answers again it re-joins
the group and push delivery resumes.

Every event the hub receives (pushed or read by its tail) is shown once to the consumer class's
`hub_observe(hub, event)` before the sockets get it, and every snapshot a socket takes to
`hub_snapshot(hub, last_id, state)`: a class may keep there what the process knows of the stream
(the auction room keeps the freshest book, to refuse stale offers without the database).

Each tail period the hub also calls the consumer class's `hub_tick(hub)` once (per process, not
per socket): the auction room closes an expired countdown there, the supervision dashboard checks
worker health. Errors in a tick are logged; the next period tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer

from realtime.receiver import LayerReceiver
from realtime.streams import group_name, stream_events_since, stream_last_id

logger = logging.getLogger(__name__)
GROUP_REFRESH_SECONDS = 600  # re-join before the layer's group_expiry
DEGRADED_TAIL_SECONDS = 1.0  # database poll while the channel layer is away

_HUBS: dict[tuple[int, type, str], StreamHub] = {}


class StreamHub:
    """The process's single group member for one stream, fanning out to local sockets."""

    def __init__(self, layer: Any, key: str, consumer_class: type) -> None:
        self.layer, self.key, self.consumer_class = layer, key, consumer_class
        self.tail_seconds = float(consumer_class.tail_seconds)
        self.members: set = set()
        self.state: dict[str, Any] = {}  # for `hub_tick` hooks (per process and stream)
        self.ready = asyncio.Event()
        self.channel: str | None = None
        self.receiver: LayerReceiver | None = None
        self.tasks = [asyncio.ensure_future(self._receive()), asyncio.ensure_future(self._tail())]

    async def _join(self) -> None:
        await self.layer.group_add(group_name(self.key), self.channel)

    @property
    def degraded(self) -> bool:
        return self.layer is None or self.receiver is None or self.receiver.down

    def observe(self, event: dict) -> None:
        try:
            self.consumer_class.hub_observe(self, event)
        except Exception:
            logger.warning("hub observer of %s failed", self.key, exc_info=True)

    def fan_out(self, message: dict) -> None:
        self.observe(message["event"])
        for member in list(self.members):
            asyncio.ensure_future(member.hub_event(message))

    async def _receive(self) -> None:
        if self.layer is None:  # no channel layer configured: the tail alone delivers
            self.ready.set()
            return
        try:
            self.channel = await self.layer.new_channel()
            self.receiver = LayerReceiver(self.layer, self.channel, self._join, f"stream hub {self.key}")
            await self.receiver.join()  # a layer outage: joined when it returns
        finally:
            self.ready.set()
        loop = asyncio.get_running_loop()
        joined = loop.time()
        while True:
            message = await self.receiver.receive()
            if loop.time() - joined > GROUP_REFRESH_SECONDS:
                self.receiver.needs_join = True
                joined = loop.time()
            if message.get("type") == "stream.event":
                self.fan_out(message)

    async def _tail(self) -> None:
        in_memory = self.layer is None or isinstance(self.layer, InMemoryChannelLayer)
        seen = None
        while True:
            degraded = self.degraded
            await asyncio.sleep(min(DEGRADED_TAIL_SECONDS, self.tail_seconds) if degraded else self.tail_seconds)
            try:
                last = await database_sync_to_async(stream_last_id)(self.key)
            except Exception:  # the database is briefly away: try again next period
                logger.warning("stream tail of %s failed", self.key, exc_info=True)
                last = None
            if last is not None:
                # No push to wait for (in-memory layer, or the layer is away): deliver at once.
                immediate = in_memory or degraded or self.degraded
                behind = last if immediate or seen is None else seen
                seen = last
                await self._feed_lagging(behind)
            tick = getattr(self.consumer_class, "hub_tick", None)
            if tick is not None and self.members:
                try:
                    await tick(self)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.warning("hub tick of %s failed", self.key, exc_info=True)

    async def _feed_lagging(self, behind: int) -> None:
        """One database read of the events the lagging sockets miss, handed to each of them."""
        lagging = [m for m in list(self.members) if m.last_sent < behind]
        if not lagging:
            return
        since = min(m.last_sent for m in lagging)
        try:
            events = await database_sync_to_async(stream_events_since)(self.key, since)
        except Exception:
            logger.warning("stream tail of %s failed", self.key, exc_info=True)
            return
        for event in events:
            self.observe(event)
        for member in lagging:
            asyncio.ensure_future(member.hub_feed(events))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.channel is not None:
            with contextlib.suppress(Exception):
                await self.layer.group_discard(group_name(self.key), self.channel)


async def hub_join(consumer: Any) -> StreamHub:
    """Add `consumer` to its stream's hub in this process (starting the hub); returns once the hub
    is in the stream's group, so nothing published after the caller's snapshot is missed."""
    slot = (id(asyncio.get_running_loop()), type(consumer), consumer.key)
    hub = _HUBS.get(slot)
    if hub is None:
        hub = _HUBS[slot] = StreamHub(consumer.channel_layer, consumer.key, type(consumer))
    hub.members.add(consumer)
    consumer._hub_slot = slot
    consumer.hub = hub
    await hub.ready.wait()
    return hub


async def hub_leave(consumer: Any) -> None:
    slot = getattr(consumer, "_hub_slot", None)
    hub = _HUBS.get(slot) if slot else None
    if hub is None:
        return
    hub.members.discard(consumer)
    if not hub.members:
        _HUBS.pop(slot, None)
        await hub.stop()


def running_hubs() -> list[StreamHub]:
    """The hubs of this process (tests and diagnostics)."""
    return list(_HUBS.values())
