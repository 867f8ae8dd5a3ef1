"""Reads of the opening: the room snapshot and events for a user, the record."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import can
from config.errors import NotFoundError
from realtime.models import Stream
from realtime.streams import audience_allows, stream_events_since, stream_get
from trading import selectors
from trading.models import Opening, Tender
from trading.opening.room import room_key, room_state


def room_tender(*, user, pk) -> Tender:
    tender = selectors.tender_get(user=user, pk=pk)
    if not can(user, "opening.view", tender):
        raise NotFoundError(_("No such tender."))
    return tender


def room_snapshot(*, user, tender: Tender) -> tuple[int, dict]:
    """(last event id, state) taken under the stream's row lock, as the consumer does."""
    key = room_key(tender.pk)
    with transaction.atomic():
        stream_get(key)
        stream = Stream.objects.select_for_update().get(key=key)
        return stream.last_id, room_state(tender=tender, user=user)


def room_events(*, user, tender: Tender, since: int, limit: int = 500) -> list[dict]:
    """Events after `since`, each either the event or a redacted placeholder (ids stay gapless)."""
    out = []
    for event in stream_events_since(room_key(tender.pk), since, limit):
        if audience_allows(event.get("audience") or {}, user):
            out.append({"type": "event", "id": event["id"], "kind": event["kind"], "payload": event["payload"],
                        "at": event.get("at")})
        else:
            out.append({"type": "redacted", "id": event["id"]})
    return out


def record_get(*, user, tender: Tender) -> Opening:
    opening = Opening.objects.filter(tender=tender).first()
    if opening is None or not opening.record_sha256 or not can(user, "opening.view_record", opening):
        raise NotFoundError(_("The opening record is not published."))
    return opening
