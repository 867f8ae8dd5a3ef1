"""What a DBA could do behind the application's back: switch the append-only guard off,
then truncate or rewrite the log (re-chaining every later hash so the chain verifies)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from django.db import connection

from audit.canonical import canonical_bytes
from audit.guard import suspended
from audit.models import AuditEvent
from audit.services import GENESIS_PREV, audit_record, leaf_hash


def append(n: int, *, tender: int | None = None) -> None:
    for i in range(n):
        data = {"i": i} if tender is None else {"i": i, "tender": tender}
        audit_record(actor="system", action="test.event", obj=f"test.thing:{i}", data=data)


@contextlib.contextmanager
def guard_off(table: str = "auditevent") -> Iterator[object]:
    """As the tables' owner, lift the append-only triggers of audit_<table>."""
    with suspended(connection, [f"audit_{table}"]), connection.cursor() as cursor:
        yield cursor


def truncate(keep: int) -> None:
    with guard_off() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq > %s", [keep])


def rewrite(from_seq: int, data: dict) -> None:
    """Replace the data of event `from_seq` and re-chain every event after it."""
    events = list(AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq"))
    prev = AuditEvent.objects.get(seq=from_seq - 1).hash if from_seq > 1 else GENESIS_PREV
    with guard_off() as cursor:
        for event in events:
            body = {**event.as_dict(), "prev": prev}
            if event.seq == from_seq:
                body["data"] = data
            digest = leaf_hash(canonical_bytes(body))
            cursor.execute("UPDATE audit_auditevent SET data = %s, prev = %s, hash = %s WHERE seq = %s",
                           [json.dumps(body["data"]), prev, digest, event.seq])
            prev = digest
