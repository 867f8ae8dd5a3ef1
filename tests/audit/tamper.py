"""What a DBA could do behind the application's back: switch the append-only guard off,
then truncate or rewrite the log (re-chaining every later hash so the chain verifies)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from django.conf import settings
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


# --- The tamper matrix (tests/audit/test_tamper_matrix.py) ------------------------------------
# Each case is SQL a database role would run; the owner runs it with the guard lifted.

def _renumber_after(seq: int) -> list[str]:
    rows = AuditEvent.objects.filter(seq__gt=seq).order_by("seq").values_list("seq", flat=True)
    return [f"UPDATE audit_auditevent SET seq = {s - 1} WHERE seq = {s}" for s in rows]


def _rehash_after_edit(seq: int, data: dict) -> list[str]:
    events = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq"))
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS_PREV
    out = []
    for event in events:
        body = {**event.as_dict(), "prev": prev}
        if event.seq == seq:
            body["data"] = data
        digest = leaf_hash(canonical_bytes(body))
        payload = json.dumps(body["data"]).replace("'", "''")
        out.append(f"UPDATE audit_auditevent SET data = '{payload}', prev = '{prev}', hash = '{digest}' "
                   f"WHERE seq = {event.seq}")
        prev = digest
    return out


CASES = {
    "edit_one_event": lambda: ["UPDATE audit_auditevent SET actor = 'mallory' WHERE seq = 6"],
    "delete_tail": lambda: ["DELETE FROM audit_auditevent WHERE seq > 10"],
    "delete_middle_and_renumber": lambda: ["DELETE FROM audit_auditevent WHERE seq = 6", *_renumber_after(6)],
    "rewrite_and_rehash_after_edit": lambda: _rehash_after_edit(6, {"i": 666}),
    "truncate_to_older_checkpoint": lambda: ["DELETE FROM audit_auditevent WHERE seq > 4",
                                             "DELETE FROM audit_checkpoint WHERE tree_size > 4"],
}
WIPE_PROOFS = ["DELETE FROM audit_checkpoint", "DELETE FROM audit_merklenode"]


def owner_run(statements: list[str]) -> None:
    """Run `statements` as the tables' owner would: lift the guard (DDL), change, restore it."""
    with suspended(connection, ["audit_auditevent", "audit_checkpoint", "audit_merklenode"]), \
            connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def forged_bundle(path) -> str:
    """The best bundle whoever controls the database can make without the signing key: every
    event now in the database up to the largest genuine signed checkpoint (from the journal)
    that the tampered log is still long enough for. Returns the note used."""
    from audit.checkpoints import checkpoint_open, journal_notes, log_size
    from audit.export import FORMAT, VERSION
    from audit.selectors import canonical_rows
    from audit.signing import platform_public_key_b64, platform_verifier_key

    head = log_size()
    usable = sorted(((checkpoint_open(n)[0], n) for n in journal_notes() if checkpoint_open(n)[0] <= head),
                    key=lambda item: item[0])
    size, note = usable[-1]
    lines = [{"type": "header", "format": FORMAT, "version": VERSION, "scope": "log", "tender": None,
              "origin": settings.AUDIT_LOG_ORIGIN,
              "tree_size": size, "events": size, "public_key": platform_public_key_b64(),
              "verifier_key": platform_verifier_key(), "key_id": "", "created_at": "2026-12-06T00:00:00Z"},
             {"type": "checkpoint", "note": note}]
    for seq, body, _prev, stored_hash in canonical_rows():
        if seq > size:
            break
        lines.append({"type": "event", "seq": seq, "hash": stored_hash, "canonical": body.decode("utf-8")})
    lines.append({"type": "end", "events": size})
    with open(path, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return note
