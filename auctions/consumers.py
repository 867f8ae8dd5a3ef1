"""The live bidding room (WebSocket /ws/auctions/<trade public id>/) on the persisted room stream.

Protocol of `realtime.consumers.StreamConsumer` (snapshot, events by gapless id, resync), plus:
  client → server: {"type": "bid", "ref": n, "amount": "…", "key": "<idempotency key>"}
                   {"type": "time", "ref": n}
  server → client: {"type": "ack", "ref": n, "result": {...}}   the accepted bid (with its signed receipt),
                                                               or {"server_time": …} for "time"
                   {"type": "error", "ref": n, "code": …, "message": …, "fields": {...}}  a refused bid
                                                               (fields.server_time: the time that decided)
The state (auctions.selectors.room_state) is the same for everyone but "me" (own number, standing)
and, for supervisors, "numbers" (number → name). When the deadline the room knows of has passed
and no phase event came, the process's stream hub asks `trade_advance` once (`hub_tick`; idempotent;
the beat sweep does the same every AUCTION_SWEEP_SECONDS), so a countdown that runs out closes the
room without a worker. Bids run on the command pool (realtime/command_pool.py), so a burst of bids
does not queue behind the snapshot and tail reads of every socket.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation

from accounts.policy import can
from auctions import engine, selectors
from auctions.models import Trade
from auctions.room import book_observe, known_book
from auctions.services.bidding import refusal_error
from auctions.services.common import money
from audit.canonical import format_timestamp
from config.errors import DomainError
from realtime.command_pool import run_command
from realtime.consumers import StreamConsumer
from realtime.hub import StreamHub
from trading import clock


def _parse(ts: str | None) -> datetime | None:
    return datetime.fromisoformat(ts) if ts else None


def _advance(trade_pk: int) -> None:
    from auctions.services.bidding import trade_advance

    trade_advance(trade=Trade.objects.get(pk=trade_pk))


class AuctionRoomConsumer(StreamConsumer):
    tail_seconds = 2.0

    def stream_key(self) -> str:
        raw = str(self.scope["url_route"]["kwargs"].get("trade", ""))
        try:
            self.trade_public_id = uuid.UUID(raw)
        except ValueError:
            self.trade_public_id = None
        return f"auction:{self.trade_public_id}"

    def _trade(self) -> Trade | None:
        if self.trade_public_id is None:
            return None
        return Trade.objects.filter(public_id=self.trade_public_id).first()

    def may_connect(self, user: Any) -> bool:
        trade = self._trade()
        if trade is None or not getattr(user, "is_authenticated", False):
            return False
        self.trade_pk = trade.pk
        return can(user, "auction.room", trade)

    def build_state(self, user: Any) -> dict:
        trade = Trade.objects.get(pk=self.trade_pk)
        state = selectors.room_state(user=user, trade=trade)
        self.number = (state["me"] or {}).get("number")
        # The next instant the room changes by the clock: the running deadline, or the start.
        self.ends_at = _parse(state["ends_at"]) or (trade.starts_at if trade.status == "published" else None)
        return state

    async def _deliver(self, event: dict) -> None:
        if event.get("kind") in ("bid", "phase", "result"):
            self.ends_at = _parse(event["payload"].get("ends_at"))
        hub = getattr(self, "hub", None)
        if hub is not None:  # in order, gaps filled: completes the book where the push missed an id
            hub.observe(event)
        await super()._deliver(event)

    # The process's freshest committed book (auctions.room.known_book), for refusals without the database:
    # fed by the hub (every event as it arrives) and by every socket's deliveries (in id order, gaps
    # filled from the database), so an id the push lost or that came before a snapshot still arrives.
    @classmethod
    def hub_snapshot(cls, hub: StreamHub, last_id: int, state: dict) -> None:
        book = hub.state.get("book")
        if book is None or book["last_id"] < last_id:
            hub.state["book"] = known_book(last_id, state)

    @classmethod
    def hub_observe(cls, hub: StreamHub, event: dict) -> None:
        hub.state["book"] = book_observe(hub.state.get("book"), event)

    def _known_refusal(self, amount: str, key: str) -> DomainError | None:
        """A too-low offer refused from what this process's room knows, without the database."""
        hub = getattr(self, "hub", None)
        known = hub.state.get("book") if hub is not None else None
        number = getattr(self, "number", None)
        if known is None or number is None:
            return None
        try:
            value = money(amount, field="amount")
        except DomainError:
            return None  # the service answers invalid amounts
        at = clock.now()
        refusal = engine.too_low_in_room(
            phase=engine.TIMED if known["status"] == "timed" else "", minimum=known["minimum"],
            ends_at=_parse(known["deadline"]), amount=value, at=at, keyed=bool(key), history_floor=known["floor"],
            own_amounts=known["own"].get(number, set()))
        if refusal is None:
            return None
        with translation.override(self._language()):
            return refusal_error(refusal.code, at=at, minimum=refusal.minimum, status=known["status"])

    @classmethod
    async def hub_tick(cls, hub: StreamHub) -> None:
        """Once per tail period per process: a deadline that has passed with no phase event yet is
        closed by `trade_advance` (idempotent; the beat sweep does the same every AUCTION_SWEEP_SECONDS).
        The deadline is the one the socket furthest in the stream knows of."""
        members = [m for m in list(hub.members) if getattr(m, "trade_pk", None) is not None]
        if not members:
            return
        newest = max(members, key=lambda m: m.last_sent)
        ends_at = getattr(newest, "ends_at", None)
        if ends_at is None or clock.now() < ends_at:
            return
        await database_sync_to_async(_advance)(newest.trade_pk)

    async def handle_command(self, content: dict) -> None:
        kind, ref = content.get("type"), content.get("ref")
        if kind == "time":
            await self.send_json({"type": "ack", "ref": ref, "result": {"server_time": format_timestamp(clock.now())}})
            return
        if kind != "bid":
            await self.send_error("unknown_command", f"unknown message type {kind!r}")
            return
        amount, key = content.get("amount"), content.get("key") or ""
        if not isinstance(amount, str | int) or not isinstance(key, str):
            await self.send_json({"type": "error", "ref": ref, "code": "invalid",
                                  "message": "amount (decimal string) and key (string) expected", "fields": {}})
            return
        try:
            early = self._known_refusal(str(amount), key)
            if early is not None:
                raise early
            # On the command pool, not the sockets' shared database thread (realtime/command_pool.py).
            result = await run_command(self._bid, str(amount), key)
        except DomainError as exc:
            await self.send_json({"type": "error", "ref": ref, "code": exc.code, "message": exc.message,
                                  "fields": exc.fields})
            return
        await self.send_json({"type": "ack", "ref": ref, "result": result})

    def _language(self) -> str:
        """The page's language: the language cookie, else Accept-Language, else the default."""
        chosen = (self.scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME)
        if not chosen:
            header = dict(self.scope.get("headers") or {}).get(b"accept-language", b"").decode("latin-1")
            chosen = next((lang for lang, _q in translation.trans_real.parse_accept_lang_header(header)), "")
        try:
            return translation.get_supported_language_variant(chosen) if chosen else settings.LANGUAGE_CODE
        except LookupError:
            return settings.LANGUAGE_CODE

    def _bid(self, amount: str, key: str) -> dict:
        from auctions.api import bid_output
        from auctions.services.bidding import bid_place

        with translation.override(self._language()):
            # The socket's buyer row is kept while it may bid: the offers of a burst cost no lookup.
            # `bid_place` re-reads it under the trade's lock before accepting anything.
            buyer = getattr(self, "_buyer", None)
            if buyer is None or not buyer.may_bid:
                buyer = self._buyer = selectors.buyer_of(user=self.user, trade=Trade.objects.get(pk=self.trade_pk))
            if buyer is None:
                raise DomainError(translation.gettext("Your organisation has not applied to this trade."),
                                  code="not_a_buyer", status=403)
            return dict(bid_output(bid_place(actor=self.user, buyer=buyer, amount=amount, idempotency_key=key)))
