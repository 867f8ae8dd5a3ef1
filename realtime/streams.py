"""Live event streams: persisted first, pushed on commit (the `realtime` app).

Services call `stream_publish(...)` inside their transaction (Zulip's rule:
realtime events are sent only from services, on commit). The event is stored
with the next gapless id of its stream, so the database is the record; after
commit it is pushed to the channel-layer group as a fast path. Layers drop
messages silently when full (PITFALLS.md), so consumers detect gaps by id and
re-read the missing events (`stream_events_since`).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from accounts.roles import Role
from audit.canonical import normalize
from realtime.models import Stream, StreamEvent

logger = logging.getLogger(__name__)
PUBLIC: dict = {"public": True}


def group_name(key: str) -> str:
    """Channel-layer group names allow only ASCII alphanumerics, '-', '_' and '.'."""
    return "stream." + "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)


def audience_allows(audience: dict, user: Any) -> bool:
    """Whether `user` may receive an event with this audience. Supervisors see everything."""
    if audience.get("public"):
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(Role.SUPERVISOR):
        return True
    if user.pk in audience.get("users", ()):
        return True
    if user.organisation_id is not None and user.organisation_id in audience.get("orgs", ()):
        return True
    return any(user.has_role(role) for role in audience.get("roles", ()))


def stream_get(key: str) -> Stream:
    stream, _ = Stream.objects.get_or_create(key=key)
    return stream


@transaction.atomic
def stream_publish(*, key: str, kind: str, payload: dict, audience: dict | None = None) -> StreamEvent:
    """Persist an event with the stream's next id, and push it once the transaction commits."""
    stream_get(key)
    stream = Stream.objects.select_for_update().get(key=key)
    stream.last_id += 1
    stream.save(update_fields=["last_id"])
    event = StreamEvent.objects.create(stream=stream, event_id=stream.last_id, kind=kind,
                                       payload=normalize(payload), audience=normalize(audience or {}))
    message = {"type": "stream.event", "event": event.as_message()}
    transaction.on_commit(lambda: _push(key, message))
    return event


def _push(key: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(key), message)
    except Exception:  # the layer is a fast path; clients catch up from the database
        logger.warning("stream push to %s failed; clients will resync from the database", key, exc_info=True)


def stream_events_since(key: str, after_id: int, limit: int = 500) -> list[dict]:
    return [e.as_message() for e in
            StreamEvent.objects.filter(stream__key=key, event_id__gt=after_id).order_by("event_id")[:limit]]


def stream_last_id(key: str) -> int:
    return Stream.objects.filter(key=key).values_list("last_id", flat=True).first() or 0
