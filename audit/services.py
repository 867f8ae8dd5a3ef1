"""The one way to write to the audit log.

Every module calls `audit_record(...)` inside the transaction of the change it
describes, so the event commits or rolls back with it. Appends are serialized:
on PostgreSQL the `audit_append` function takes a transaction-scoped advisory
lock and appends in one round trip; SQLite runs every transaction as BEGIN
IMMEDIATE (settings). So `seq` is gapless and the chain never forks; the unique
constraints on `seq` and `prev` are the backstop.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from audit.canonical import dumps, format_timestamp, normalize
from audit.models import AuditEvent

GENESIS_PREV = "0" * 64
_ADVISORY_LOCK_KEY = 0x70747261646531  # "ptrade1"
# Keys that must never carry secret material (SPECS.md §2); store a hash instead.
_SECRET_KEY = re.compile(r"^(password|passphrase|secret|private_key|dek|token|api_key|share)$", re.I)
SYSTEM = "system"
_APPEND_SQL = "SELECT o_seq, o_ts, o_prev, o_hash FROM audit_append(%s, %s, %s, %s, %s, %s::jsonb)"


def leaf_hash(canonical_event: bytes) -> str:
    """RFC 6962 leaf hash of an event's canonical bytes, hex."""
    return hashlib.sha256(b"\x00" + canonical_event).hexdigest()


def actor_id(actor: Any) -> str:
    if actor is None or isinstance(actor, str):
        return actor or SYSTEM
    if getattr(actor, "is_authenticated", False):
        return str(actor.pk)
    return SYSTEM


def object_ref(obj: Any) -> str:
    """"app_label.model:<pk>" for a model instance; strings pass through."""
    if isinstance(obj, Model):
        return f"{obj._meta.app_label}.{obj._meta.model_name}:{obj.pk}"
    if isinstance(obj, str) and obj:
        return obj
    raise TypeError("audit object must be a saved model instance or an 'app.model:id' string")


def refuse_secrets(data: Any, path: str = "data") -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if _SECRET_KEY.match(key):
                raise ValueError(f"{path}.{key}: secret material never enters an audit event; store a hash")
            refuse_secrets(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            refuse_secrets(value, f"{path}[{i}]")


def chain_lock() -> None:
    """Take the chain's append lock now (PostgreSQL: the transaction-scoped advisory lock that
    `audit_append` takes; re-entrant) and hold it to the end of the transaction. SQLite
    transactions already hold the write lock. Used to order a check before an append."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def event_bytes(head: bytes, prev: str, seq: int, ts: str) -> bytes:
    """Canonical bytes of an event whose sorted leading keys (action, actor, data,
    object) are already serialized in `head`; `prev`, `seq`, `ts` sort last.
    Equal to `canonical.dumps(event.as_dict())` (tests/audit/test_chain.py checks it);
    PostgreSQL's `audit_append` function builds the same bytes (migration 0004)."""
    tail = f',"prev":"{prev}","seq":{seq},"ts":"{ts}"}}'
    return head + tail.encode()


def audit_record(*, actor: Any, action: str, obj: Any, data: dict | None = None) -> AuditEvent:
    """Append one event to the chain within the caller's transaction (or its own).

    The chain lock is held until that transaction ends: call this as late in the
    transaction as the change allows.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+", action):
        raise ValueError(f"audit action {action!r} must look like 'tender.published'")
    payload = normalize(data or {})
    refuse_secrets(payload)
    actor_ref, object_str = actor_id(actor), object_ref(obj)
    head = dumps({"action": action, "actor": actor_ref, "data": payload, "object": object_str})[:-1]
    # No savepoint: an error inside leaves the caller's transaction to roll back whole.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_APPEND_SQL, [_ADVISORY_LOCK_KEY, head.decode(), actor_ref, action, object_str,
                                      dumps(payload).decode()])
                seq, ts, prev, digest = cursor.fetchone()
            return AuditEvent(seq=seq, ts=ts, actor=actor_ref, action=action, object=object_str, data=payload,
                              prev=prev, hash=digest)
        # SQLite: the transaction already holds the database write lock (BEGIN IMMEDIATE).
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_PREV)
        ts = timezone.now()
        event = AuditEvent(seq=seq, ts=ts, actor=actor_ref, action=action, object=object_str, data=payload,
                           prev=prev, hash=leaf_hash(event_bytes(head, prev, seq, format_timestamp(ts))))
        event.save(force_insert=True)
        return event
