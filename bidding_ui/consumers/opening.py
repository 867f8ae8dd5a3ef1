"""The live opening room: /ws/opening/<tender_id>/ (one stream per tender, "opening:tender:<id>").

Server → client: the base protocol (bidding_ui/consumers/base.py): a snapshot, then
events with gapless ids (redacted placeholders for events this viewer may not see).
Client → server, besides "resync" and "snapshot": the room commands of
trading/opening/commands.py, e.g. {"type": "sign_in", "ref": 1}. Every command gets
{"type": "ack", "ref": ..., "command": ..., "result": {...}} or
{"type": "error", "ref": ..., "code": ..., "message": ...}; its effects arrive as events.

Browsers authenticate with their session; scripts send `Authorization: Token <key>`
in the handshake (and an Origin header matching ALLOWED_HOSTS).
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from accounts.policy import can
from bidding_ui.consumers.base import StreamConsumer
from config.errors import DomainError
from trading.models import Tender
from trading.opening.commands import opening_command
from trading.opening.room import room_key, room_state


def _token_user(scope):
    """The user of an `Authorization: Token <key>` handshake header, or None."""
    from rest_framework.authtoken.models import Token

    for name, value in scope.get("headers") or []:
        if name.lower() == b"authorization":
            parts = value.decode("latin-1").split()
            if len(parts) == 2 and parts[0].lower() == "token":
                token = Token.objects.select_related("user").filter(key=parts[1]).first()
                if token is not None and token.user.is_active:
                    return token.user
    return None


class OpeningRoomConsumer(StreamConsumer):
    tail_seconds = 3.0

    async def connect(self) -> None:
        self.tender_id = int(self.scope["url_route"]["kwargs"]["tender_id"])
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            token_user = await database_sync_to_async(_token_user)(self.scope)
            self.scope["user"] = token_user or user or AnonymousUser()
        await super().connect()

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
