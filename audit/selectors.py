"""Reads of the audit log, streaming so that memory does not grow with its size."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from audit.canonical import dumps, format_timestamp
from audit.models import AuditEvent
from audit.services import GENESIS_PREV, leaf_hash

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


@dataclass
class ChainReport:
    ok: bool
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_PREV
    first_broken_seq: int | None = None
    problem: str = ""


def chain_verify(*, progress: Callable[[int], None] | None = None, progress_every: int = 10000) -> ChainReport:
    """Re-hash the whole chain in seq order and report the first broken seq."""
    expected_seq, prev = 1, GENESIS_PREV
    report = ChainReport(ok=True)
    for row in events_iter():
        seq, stored_prev, stored_hash = row[0], row[6], row[7]
        if seq != expected_seq:
            return _broken(report, expected_seq, f"gap: expected seq {expected_seq}, found {seq}")
        if stored_prev != prev:
            return _broken(report, seq, "prev does not match the hash of the previous event")
        if leaf_hash(event_canonical_bytes(row)) != stored_hash:
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
