"""Export bundles for offline verification (SPECS.md §2, docs/audit.md).

A bundle is JSON Lines (UTF-8, one canonical JSON object per line), in this order:

  {"type":"header", "format":"ptrade-audit-bundle", "version":1, "scope":"log"|"tender",
   "tender":<id as string>|null, "origin", "tree_size", "events":<count>, "public_key":<base64>,
   "verifier_key":<C2SP vkey>, "key_id", "created_at"}
  {"type":"checkpoint", "note":<signed checkpoint note at tree_size, followed by the witnesses'
   cosignature lines (docs/witness.md)>}
  {"type":"consistency", "first", "second", "first_root":<hex>, "hashes":[<hex>...]}   (on request)
  {"type":"event", "seq", "hash":<hex leaf hash>, "canonical":<the event's canonical JSON,
   exactly the bytes hashed, as a string>, "inclusion":[<hex>...] (tender scope only)}  ...
  {"type":"end", "events":<count>}

Whole log: events 1..tree_size; the verifier re-hashes the chain and recomputes the root.
One tender: the events whose object is "trading.tender:<id>" or whose data has
"tender": <id>, each with its inclusion proof against the checkpoint.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit import checkpoints, witnessing
from audit.canonical import dumps, format_timestamp
from audit.models import AuditEvent, Checkpoint
from audit.sealed import SEALED_ACTION, reveal_seqs
from audit.selectors import canonical_rows, event_canonical_bytes
from audit.signing import platform_key_id, platform_public_key_b64, platform_verifier_key
from config.errors import DomainError, NotFoundError

FORMAT = "ptrade-audit-bundle"
VERSION = 1
_PROOF_BATCH = 256
_FIELDS = ("seq", "ts", "actor", "action", "object", "data", "prev", "hash")


def tender_events(tender: str) -> QuerySet[AuditEvent]:
    """Events of a tender, by the platform's convention: object "trading.tender:<id>" or
    "tender": <id> in data (the id as a JSON number or string); once the tender's deadline event
    has revealed its sealed events (audit/sealed.py), those `sealed.committed` events too."""
    match = Q(object=f"trading.tender:{tender}") | Q(data__tender=tender)
    if tender.isdigit():
        match |= Q(data__tender=int(tender))
    reveals = AuditEvent.objects.filter(match, action="tender.status_changed", data__has_key="sealed")
    sealed = reveal_seqs(reveals)
    if sealed:
        match |= Q(seq__in=sealed, action=SEALED_ACTION)
    return AuditEvent.objects.filter(match).order_by("seq")


def _line(obj: dict) -> bytes:
    return dumps(obj) + b"\n"


@dataclass
class Bundle:
    checkpoint: Checkpoint
    tender: str | None = None
    consistency_from: int | None = None
    event_count: int = 0
    _head: list[bytes] = field(default_factory=list)

    @property
    def filename(self) -> str:
        scope = f"tender-{self.tender}" if self.tender is not None else "log"
        return f"ptrade-audit-{scope}-{self.checkpoint.tree_size}.jsonl"

    def lines(self) -> Iterator[bytes]:
        yield from self._head
        yield from self._log_lines() if self.tender is None else self._tender_lines()
        yield _line({"type": "end", "events": self.event_count})

    def chunks(self, size: int = 1 << 16) -> Iterator[bytes]:
        """`lines()` joined into pieces of about `size` bytes, for streaming responses."""
        buffer: list[bytes] = []
        filled = 0
        for line in self.lines():
            buffer.append(line)
            filled += len(line)
            if filled >= size:
                yield b"".join(buffer)
                buffer, filled = [], 0
        if buffer:
            yield b"".join(buffer)

    def _log_lines(self) -> Iterator[bytes]:
        size = self.checkpoint.tree_size
        for seq, body, _prev, stored_hash in canonical_rows():
            if seq > size:  # appended after the checkpoint: only a few rows are left to skip
                break
            yield _line({"type": "event", "seq": seq, "hash": stored_hash, "canonical": body.decode("utf-8")})

    def _tender_lines(self) -> Iterator[bytes]:
        size = self.checkpoint.tree_size
        rows = (tender_events(self.tender).filter(seq__lte=size).values_list(*_FIELDS)
                .iterator(chunk_size=2000))
        while batch := list(itertools.islice(rows, _PROOF_BATCH)):
            paths = checkpoints.inclusion_paths([row[0] for row in batch], size)
            for row in batch:
                yield _event_line(row, [h.hex() for h in paths[row[0]]])


def _event_line(row: tuple, inclusion: list[str]) -> bytes:
    return _line({"type": "event", "seq": row[0], "hash": row[7],
                  "canonical": event_canonical_bytes(row).decode("utf-8"), "inclusion": inclusion})


def bundle_prepare(*, tender: str | None = None, consistency_from: int | None = None) -> Bundle:
    """Checkpoint the log now (or reuse the checkpoint of its current size) and prepare a
    bundle of the whole log or of one tender; `lines()` then streams it."""
    checkpoint = checkpoints.checkpoint_create()
    size = checkpoint.tree_size
    if tender is None:
        count = size
    else:
        count = tender_events(tender).filter(seq__lte=size).count()
        if not count:
            raise NotFoundError(f"The audit log has no events of tender {tender}.")
    bundle = Bundle(checkpoint=checkpoint, tender=tender, consistency_from=consistency_from,
                    event_count=count)
    bundle._head = [
        _line({"type": "header", "format": FORMAT, "version": VERSION,
               "scope": "log" if tender is None else "tender", "tender": tender,
               "origin": settings.AUDIT_LOG_ORIGIN, "tree_size": size, "events": count,
               "public_key": platform_public_key_b64(), "verifier_key": platform_verifier_key(),
               "key_id": platform_key_id(), "created_at": format_timestamp(timezone.now())}),
        _line({"type": "checkpoint", "note": witnessing.export_note(checkpoint)}),  # with cosignatures
    ]
    if consistency_from is not None:
        if not 0 <= consistency_from <= size:
            raise DomainError(f"consistency_from must be between 0 and the checkpoint size {size}.",
                              fields={"consistency_from": [f"0 to {size}"]})
        proof = checkpoints.consistency_proof(first=consistency_from, second=size)
        bundle._head.append(_line({"type": "consistency", "first": proof.first, "second": proof.second,
                                   "first_root": proof.first_root.hex(),
                                   "hashes": [h.hex() for h in proof.hashes]}))
    return bundle


def bundle_write(out: BinaryIO, *, tender: str | None = None, consistency_from: int | None = None) -> Bundle:
    bundle = bundle_prepare(tender=tender, consistency_from=consistency_from)
    for line in bundle.lines():
        out.write(line)
    return bundle
