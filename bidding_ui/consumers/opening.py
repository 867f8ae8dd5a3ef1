"""The live opening room: /ws/opening/<tender_id>/ (one stream per tender, "opening:tender:<id>").

Server → client: the base protocol (realtime/consumers.py): a snapshot, then
events with gapless ids (redacted placeholders for events this viewer may not see).
Client → server, besides "resync" and "snapshot": the room commands of
trading/opening/commands.py, e.g. {"type": "sign_in", "ref": 1}. Every command gets
{"type": "ack", "ref": ..., "command": ..., "result": {...}} or
{"type": "error", "ref": ..., "code": ..., "message": ...}; its effects arrive as events.

Browsers authenticate with their session; scripts send `Authorization: Token <key>`
in the handshake (and an Origin header matching ALLOWED_HOSTS).

Fan-out and the database tail are the base consumer's (realtime/hub.py): one channel-layer
group member and one stream poll per room and server process, whatever the number of sockets.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from accounts.policy import can
from accounts.tokens import token_user
from config.errors import DomainError
from realtime.consumers import StreamConsumer
from trading.models import Tender
from trading.opening.commands import opening_command
from trading.opening.room import room_key, room_state


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


class OpeningRoomConsumer(StreamConsumer):
    tail_seconds = 3.0

    async def identify(self) -> None:
        """Browsers come with their session; scripts with `Authorization: Token <key>`."""
        self.tender_id = int(self.scope["url_route"]["kwargs"]["tender_id"])
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            token_user = await database_sync_to_async(_token_user)(self.scope)
            self.scope["user"] = token_user or user or AnonymousUser()
        self.language = _room_language(self.scope)

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
