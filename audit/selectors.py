"""Reads of the audit log, streaming so that memory does not grow with its size."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from audit.canonical import dumps, format_timestamp
from audit.models import AuditEvent
from audit.services import GENESIS_PREV, event_bytes, leaf_hash

_FIELDS = ("seq", "ts", "actor", "action", "object", "data", "prev", "hash")


def events_iter(*, start: int = 1, end: int | None = None, chunk_size: int = 5000) -> Iterator[tuple]:
    """(seq, ts, actor, action, object, data, prev, hash) rows in seq order, server-side cursor."""
    qs = AuditEvent.objects.filter(seq__gte=start)
    if end is not None:
        qs = qs.filter(seq__lte=end)
    return qs.order_by("seq").values_list(*_FIELDS).iterator(chunk_size=chunk_size)


def event_canonical_bytes(row: tuple) -> bytes:
    seq, ts, actor, action, obj, data, prev, _ = row
    return dumps({"seq": seq, "ts": format_timestamp(ts), "actor": actor, "action": action,
                  "object": obj, "data": data, "prev": prev})


_PG_CANONICAL_ROWS = """
SELECT seq, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor, action, object,
       data::text, prev, hash
FROM audit_auditevent WHERE seq >= %s ORDER BY seq"""


def canonical_rows(*, start: int = 1, chunk_size: int = 10000) -> Iterator[tuple[int, bytes, str, str]]:
    """(seq, canonical bytes, prev, stored hash) in seq order, streaming.

    On PostgreSQL a server-side cursor formats timestamps in SQL and skips the
    ORM's per-row converters (verification speed); elsewhere the ORM iterator.
    """
    if connection.vendor != "postgresql":
        for row in events_iter(start=start, chunk_size=chunk_size):
            yield row[0], event_canonical_bytes(row), row[6], row[7]
        return
    loads = json.loads
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(_PG_CANONICAL_ROWS, [start])
        for chunk in _prefetched(cursor, chunk_size):
            for seq, ts, actor, action, obj, data, prev, stored in chunk:
                head = dumps({"action": action, "actor": actor, "data": loads(data), "object": obj})[:-1]
                yield seq, event_bytes(head, prev, seq, ts), prev, stored


def _prefetched(cursor, chunk_size: int) -> Iterator[list]:
    """Fetch the next chunk in a thread while the caller hashes this one.

    psycopg2 releases the GIL while it waits for the server, so fetching and
    hashing overlap (the database works on the other core).
    """
    chunks: queue.Queue = queue.Queue(maxsize=2)

    def fetch() -> None:
        try:
            while rows := cursor.fetchmany(chunk_size):
                chunks.put(rows)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            chunks.put(exc)
        chunks.put(None)

    worker = threading.Thread(target=fetch, name="audit-prefetch", daemon=True)
    worker.start()
    try:
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        while worker.is_alive():  # a consumer that stopped early: drain so the thread ends
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.1)
        worker.join()


@dataclass
class ChainReport:
    ok: bool
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_PREV
    first_broken_seq: int | None = None
    problem: str = ""


def chain_verify(*, progress: Callable[[int], None] | None = None,
                 progress_every: int = 10000) -> ChainReport:
    """Re-hash the whole chain in seq order and report the first broken seq."""
    expected_seq, prev = 1, GENESIS_PREV
    report = ChainReport(ok=True)
    for seq, body, stored_prev, stored_hash in canonical_rows():
        if seq != expected_seq:
            return _broken(report, expected_seq, f"gap: expected seq {expected_seq}, found {seq}")
        if stored_prev != prev:
            return _broken(report, seq, "prev does not match the hash of the previous event")
        if leaf_hash(body) != stored_hash:
            return _broken(report, seq, "stored hash does not match the event's content")
        prev = stored_hash
        expected_seq += 1
        report.checked += 1
        if progress and report.checked % progress_every == 0:
            progress(report.checked)
    report.head_seq, report.head_hash = expected_seq - 1, prev
    if progress:
        progress(report.checked)
    return report


def _broken(report: ChainReport, seq: int, problem: str) -> ChainReport:
    report.ok = False
    report.first_broken_seq = seq
    report.problem = problem
    return report
