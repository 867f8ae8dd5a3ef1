"""The live opening room: /ws/opening/<tender_id>/ (one stream per tender, "opening:tender:<id>").

Server → client: the base protocol (realtime/consumers.py): a snapshot, then
events with gapless ids (redacted placeholders for events this viewer may not see).
Client → server, besides "resync" and "snapshot": the room commands of
trading/opening/commands.py, e.g. {"type": "sign_in", "ref": 1}. Every command gets
{"type": "ack", "ref": ..., "command": ..., "result": {...}} or
{"type": "error", "ref": ..., "code": ..., "message": ...}; its effects arrive as events.

Browsers authenticate with their session; scripts send `Authorization: Token <key>`
in the handshake (and an Origin header matching ALLOWED_HOSTS).

Fan-out. A room may have a thousand watchers. Instead of one channel-layer message per
socket (the base consumer joins every socket to the group), each server process joins the
room's group once, with a hub channel, and hands every event to its local sockets; each
socket still filters by audience, drops duplicates and fills gaps from the database. The
hub also shares the database tail: one poll of the stream's last id per room and process
every `tail_seconds`; only a socket that lags behind is caught up from the database. On a
cross-process layer (Redis) a socket counts as lagging when it misses an id the previous
poll saw already (the layer had a whole period to deliver it); on the in-memory layer
events published by another process (the Celery worker) arrive only this way, so at once.
The layer stays a fast path: the database is the record.

Layer outages (Redis down or restarted): the hub's receive goes through `LayerReceiver`
(base.py), so it never dies; while the layer is away the hub polls the database every
`DEGRADED_TAIL_SECONDS` and hands every new event to the sockets (they stay open), and
when the layer answers again it re-joins the room's group and push delivery resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import ClassVar
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from accounts.policy import can
from accounts.tokens import token_user
from config.errors import DomainError
from realtime.consumers import LayerReceiver, StreamConsumer
from realtime.streams import audience_allows, group_name, stream_last_id
from trading.models import Tender
from trading.opening.commands import opening_command
from trading.opening.room import room_key, room_state

logger = logging.getLogger(__name__)
GROUP_REFRESH_SECONDS = 600  # re-join before the layer's group_expiry
DEGRADED_TAIL_SECONDS = 1.0  # database poll while the channel layer is away


def _room_language(scope) -> str:
    """The language of the page that opened the socket (?lang=), else the platform's default."""
    query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
    lang = (query.get("lang") or [""])[0]
    return lang if lang in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _token_user(scope):
    """The user of an `Authorization: Token <key>` handshake header, or None."""
    for name, value in scope.get("headers") or []:
        if name.lower() == b"authorization":
            parts = value.decode("latin-1").split()
            if len(parts) == 2 and parts[0].lower() == "token":
                return token_user(parts[1])
    return None


class RoomHub:
    """One per (event loop, room): the process's single group member, fanning out to local sockets."""

    def __init__(self, layer, key: str, tail_seconds: float) -> None:
        self.layer, self.key, self.tail_seconds = layer, key, tail_seconds
        self.members: set[OpeningRoomConsumer] = set()
        self.ready = asyncio.Event()
        self.channel: str | None = None
        self.receiver: LayerReceiver | None = None
        self.tasks = [asyncio.ensure_future(self._receive()), asyncio.ensure_future(self._tail())]

    async def _join(self) -> None:
        await self.layer.group_add(group_name(self.key), self.channel)

    @property
    def degraded(self) -> bool:
        return self.receiver is None or self.receiver.down

    async def _receive(self) -> None:
        try:
            self.channel = await self.layer.new_channel()
            self.receiver = LayerReceiver(self.layer, self.channel, self._join, f"room hub {self.key}")
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
                for member in list(self.members):
                    asyncio.ensure_future(member.hub_event(message))

    async def _tail(self) -> None:
        in_memory = isinstance(self.layer, InMemoryChannelLayer)
        seen = None
        while True:
            degraded = self.degraded
            await asyncio.sleep(DEGRADED_TAIL_SECONDS if degraded else self.tail_seconds)
            try:
                last = await database_sync_to_async(stream_last_id)(self.key)
            except Exception:  # the database is briefly away: try again next period
                logger.warning("room tail of %s failed", self.key, exc_info=True)
                continue
            # No push to wait for (in-memory layer, or the layer is away): deliver at once.
            immediate = in_memory or degraded or self.degraded
            behind = last if immediate or seen is None else seen
            seen = last
            for member in list(self.members):
                if member.last_sent < behind:
                    asyncio.ensure_future(member.hub_catch_up())

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.channel is not None:
            with contextlib.suppress(Exception):
                await self.layer.group_discard(group_name(self.key), self.channel)


class OpeningRoomConsumer(StreamConsumer):
    tail_seconds = 3.0
    _hubs: ClassVar[dict[tuple[int, str], RoomHub]] = {}

    # --- connection -------------------------------------------------------------------------
    async def connect(self) -> None:
        """As StreamConsumer.connect, but the socket joins the process's room hub, not the group."""
        self.tender_id = int(self.scope["url_route"]["kwargs"]["tender_id"])
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            token_user = await database_sync_to_async(_token_user)(self.scope)
            self.scope["user"] = token_user or user or AnonymousUser()
        self.user = self.scope["user"]
        self.language = _room_language(self.scope)
        self.key = self.stream_key()
        self.last_sent = 0
        self._lock = asyncio.Lock()
        if not await database_sync_to_async(self._may_connect)():
            await self.close(code=4403)
            return
        room = (id(asyncio.get_running_loop()), self.key)
        hub = self._hubs.get(room)
        if hub is None:
            hub = self._hubs[room] = RoomHub(self.channel_layer, self.key, self.tail_seconds)
        hub.members.add(self)
        self._room = room
        await hub.ready.wait()  # in the group before the snapshot: nothing published after it is missed
        await self.accept()
        await self.send_snapshot()

    async def disconnect(self, code: int) -> None:
        room = getattr(self, "_room", None)
        hub = self._hubs.get(room) if room else None
        if hub is not None:
            hub.members.discard(self)
            if not hub.members:
                self._hubs.pop(room, None)
                await hub.stop()

    async def rejoin_groups(self) -> None:
        """Room sockets are in no group of their own: the hub is (RoomHub)."""

    async def hub_event(self, message: dict) -> None:
        with contextlib.suppress(Exception):  # a socket closing meanwhile
            await self.stream_event(message)

    async def hub_catch_up(self) -> None:
        with contextlib.suppress(Exception):
            async with self._lock:
                await self._catch_up()

    async def _deliver(self, event: dict) -> None:
        """As StreamConsumer._deliver; the frame is encoded once per event and audience verdict
        (the hub hands the same event object to every local socket)."""
        allowed = audience_allows(event.get("audience") or {}, self.user)
        frames = event.setdefault("_frames", {})
        text = frames.get(allowed)
        if text is None:
            body = ({"type": "event", "id": event["id"], "kind": event["kind"], "payload": event["payload"],
                     "at": event.get("at")} if allowed else {"type": "redacted", "id": event["id"]})
            text = frames[allowed] = json.dumps(body)
        await self.send(text_data=text)
        self.last_sent = event["id"]

    # --- the room ----------------------------------------------------------------------------
    def stream_key(self) -> str:
        return room_key(self.tender_id)

    def _tender(self) -> Tender | None:
        return Tender.objects.select_related("tenderer", "agent").filter(pk=self.tender_id).first()

    def may_connect(self, user) -> bool:
        tender = self._tender()
        return tender is not None and can(user, "opening.view", tender)

    def build_state(self, user) -> dict:
        return room_state(tender=self._tender(), user=user)

    def _run(self, content: dict) -> dict:
        # Refusals in the page's language (the room page connects with ?lang=<its language>).
        with translation.override(self.language):
            return opening_command(user=self.user, tender=self._tender(), content=content)

    async def handle_command(self, content: dict) -> None:
        ref = content.get("ref")
        try:
            result = await database_sync_to_async(self._run)(content)
        except DomainError as exc:
            await self.send_json({"type": "error", "ref": ref, "command": content.get("type"), "code": exc.code,
                                  "message": exc.message})
            return
        await self.send_json({"type": "ack", "ref": ref, "command": content.get("type"), "result": result})
