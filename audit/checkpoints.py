"""Merkle node store, proofs and signed checkpoints over the audit log (SPECS.md §2).

Node store: `MerkleNode(level, index, hash)` keeps every complete subtree of level >= 1
(level 0 is `AuditEvent.hash`). In an append-only log a complete subtree never changes,
so `nodes_fill` only appends: it streams the events after the stored prefix, re-checks
their chain links and hashes, folds them into a `CompactRange` and inserts the nodes that
became complete. It runs in the checkpoint task and on demand before a proof needs nodes
that are not stored yet. A root or proof at any size then needs O(log n) nodes, fetched in
two indexed queries (`_with_nodes`).

Checkpoints: the C2SP tlog-checkpoint body "<origin>\\n<size>\\n<base64 root>\\n" as a
signed note by the platform key (audit.signing), one per tree size, kept forever.

`log_verify` does not trust the node store: it re-hashes the chain from the events and
recomputes the root at every kept (and every supplied) checkpoint size in the same pass.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from audit import guard, merkle
from audit.models import AuditEvent, Checkpoint, CheckpointRefusal, MerkleNode
from audit.selectors import canonical_rows, event_canonical_bytes, events_iter
from audit.services import GENESIS_PREV, leaf_hash
from audit.signing import NoteError, note_key_name, note_open, platform_note_sign, platform_public_key
from config.errors import DomainError, NotFoundError, StateConflict

logger = logging.getLogger(__name__)

T = TypeVar("T")
_FILL_LOCK_KEY = 0x70747261646532  # "ptrade2"; the chain itself uses "ptrade1"
_SIGN_LOCK_KEY = 0x70747261646533  # "ptrade3": one signer at a time
_FILL_CHUNK = 1 << 15
_INSERT_BATCH = 5000


class LogInconsistent(StateConflict):
    """The stored events disagree with their own chain, the node store or a signed checkpoint."""

    code = "audit_log_inconsistent"


# --- Checkpoint text ------------------------------------------------------------------

def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def checkpoint_parse(text: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint body; extension lines after the root are allowed."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a size and a root line")
    origin, size_line, root_line = lines[:3]
    if not origin or not size_line.isdigit() or (size_line != "0" and size_line.startswith("0")):
        raise NoteError("malformed checkpoint origin or tree size")
    try:
        root = base64.b64decode(root_line, validate=True)
    except binascii.Error as exc:
        raise NoteError("malformed checkpoint root hash") from exc
    if len(root) != merkle.HASH_SIZE:
        raise NoteError("checkpoint root is not a 32-byte hash")
    return origin, int(size_line), root


def checkpoint_open(note: str) -> tuple[int, bytes]:
    """(size, root) of a checkpoint note signed by the platform key for this log's origin."""
    name = note_key_name()
    origin, size, root = checkpoint_parse(note_open(note, name=name, public_key=platform_public_key()))
    if origin != settings.AUDIT_LOG_ORIGIN:
        raise NoteError(f"checkpoint is for log {origin!r}, not {settings.AUDIT_LOG_ORIGIN!r}")
    return size, root


# --- Node store ------------------------------------------------------------------------

def log_size() -> int:
    return AuditEvent.objects.aggregate(n=Max("seq"))["n"] or 0


def stored_prefix() -> int:
    """Every complete subtree of level >= 1 inside leaves [0, stored_prefix()) is stored."""
    top = MerkleNode.objects.filter(level=1).order_by("-index").values_list("index", flat=True).first()
    return 0 if top is None else 2 * (top + 1)


def _fetch(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    keys = set(keys)
    found: dict[tuple[int, int], bytes] = {}
    leaf_seqs = [index + 1 for level, index in keys if level == 0]
    if leaf_seqs:
        for seq, hex_hash in AuditEvent.objects.filter(seq__in=leaf_seqs).values_list("seq", "hash"):
            found[(0, seq - 1)] = bytes.fromhex(hex_hash)
    by_level: dict[int, list[int]] = {}
    for level, index in keys:
        if level > 0:
            by_level.setdefault(level, []).append(index)
    if by_level:
        match = Q()
        for level, indexes in by_level.items():  # one "level = l AND index IN (...)" per level
            match |= Q(level=level, index__in=indexes)
        for level, index, value in MerkleNode.objects.filter(match).values_list("level", "index", "hash"):
            found[(level, index)] = bytes(value)
    return found


def _lock_fill() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FILL_LOCK_KEY])
    # SQLite: the transaction already holds the database write lock (BEGIN IMMEDIATE).


def _fill_range(begin: int, end: int) -> None:
    """Store the complete subtrees ending inside leaves [begin, end); begin is even and
    every complete subtree inside [0, begin) is stored."""
    start = merkle.CompactRange.decompose(begin)
    known = _fetch(start)
    if len(known) != len(start):
        raise LogInconsistent(f"the Merkle node store misses nodes below leaf {begin}; "
                              "run `manage.py audit nodes --rebuild`")
    tree = merkle.CompactRange(begin, [known[key] for key in start])
    prev = GENESIS_PREV
    if begin:
        prev = AuditEvent.objects.filter(seq=begin).values_list("hash", flat=True).first()
    expected, batch = begin + 1, []
    for row in events_iter(start=begin + 1, end=end):
        seq, stored_prev, stored_hash = row[0], row[6], row[7]
        if seq != expected or stored_prev != prev or leaf_hash(event_canonical_bytes(row)) != stored_hash:
            raise LogInconsistent(f"audit chain broken at seq {expected}; run `manage.py audit verify`")
        batch.extend(tree.append(bytes.fromhex(stored_hash)))
        if len(batch) >= _INSERT_BATCH:
            _insert_nodes(batch)
            batch = []
        prev, expected = stored_hash, expected + 1
    if expected != end + 1:
        raise LogInconsistent(f"audit log has no event at seq {expected}")
    _insert_nodes(batch)


_PG_INSERT_NODES = ('INSERT INTO "audit_merklenode" ("level", "index", "hash") '
                    "SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])")


def _insert_nodes(nodes: list[tuple[int, int, bytes]]) -> None:
    if not nodes:
        return
    if connection.vendor == "postgresql":  # one array per column: ~3x faster than bulk_create
        levels, indexes, hashes = zip(*nodes, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(_PG_INSERT_NODES, [list(levels), list(indexes), list(hashes)])
        return
    MerkleNode.objects.bulk_create(MerkleNode(level=level, index=index, hash=value)
                                   for level, index, value in nodes)


def nodes_fill(*, upto: int | None = None, chunk: int = _FILL_CHUNK) -> int:
    """Store the complete subtrees inside the first `upto` leaves (default: the whole log),
    in transactions of `chunk` leaves; return the stored prefix."""
    target = log_size() if upto is None else min(upto, log_size())
    target -= target % 2  # a single trailing leaf completes no subtree of level >= 1
    chunk += chunk % 2
    done = stored_prefix()
    while done < target:
        with transaction.atomic():
            _lock_fill()
            done = stored_prefix()
            if done >= target:
                break
            end = min(target, done + chunk)
            _fill_range(done, end)
            done = end
    return done


def nodes_rebuild() -> int:
    """Drop the node store (a cache derived from the events) and fill it again. The node
    table is append-only: only the owner role can lift its guard (audit.guard.suspended),
    so run this with DATABASE_OWNER_URL; the runtime role is refused."""
    with transaction.atomic():
        _lock_fill()
        with guard.suspended(connection, ["audit_merklenode"]):
            MerkleNode.objects.all().delete()
    return nodes_fill()


def _with_nodes(size: int, compute: Callable[[merkle.NodeGetter], T]) -> T:
    """Run `compute(get)` over the tree of `size` leaves with the stored nodes it needs,
    filling the node store first if they are not there yet."""
    keys = merkle.nodes_needed(compute)
    values = _fetch(keys)
    if len(values) != len(keys):
        nodes_fill(upto=size)
        values = _fetch(keys)
        if len(values) != len(keys):
            raise LogInconsistent(f"cannot find Merkle nodes for tree size {size}")
    return compute(lambda level, index: values[(level, index)])


def _check_size(size: int, name: str, head: int) -> None:
    if size > head:
        raise DomainError(f"The audit log has only {head} events.", fields={name: [f"at most {head}"]})


def tree_root(size: int) -> bytes:
    _check_size(size, "tree_size", log_size())
    return _with_nodes(size, lambda get: merkle.root(size, get))


# --- Checkpoints ---------------------------------------------------------------------

def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-tree_size").first()


def checkpoint_at(size: int) -> Checkpoint | None:
    return Checkpoint.objects.filter(tree_size=size).first()


def _latest_size_or_404() -> int:
    latest = checkpoint_latest()
    if latest is None:
        raise NotFoundError("No audit checkpoint has been made yet.")
    return latest.tree_size


def _check_against_checkpoint(size: int, root: bytes) -> Checkpoint | None:
    kept = checkpoint_at(size)
    if kept is not None and kept.root_hash != root.hex():
        logger.error("audit log root at size %s differs from its signed checkpoint", size)
        raise LogInconsistent(f"The audit log no longer matches its signed checkpoint at tree size {size}.")
    return kept


class SigningRefused(LogInconsistent):
    """The platform refuses to sign: the log is shorter than, or inconsistent with, a checkpoint
    it signed before (kept in the database or in the journal beside the key)."""

    code = "audit_signing_refused"


# --- The signed-checkpoint journal (outside the database) -------------------------------

def journal_path() -> Path:
    """The append-only file of every checkpoint note the platform signed: beside the signing
    key unless AUDIT_CHECKPOINT_JOURNAL says otherwise."""
    configured = getattr(settings, "AUDIT_CHECKPOINT_JOURNAL", "")
    return Path(configured or f"{settings.PLATFORM_SIGNING_KEY_FILE}.checkpoints.jsonl")


def journal_notes() -> list[str]:
    """The notes in the journal, oldest first (one JSON object {"note": ...} per line)."""
    path = journal_path()
    if not path.exists():
        return []
    notes = []
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.endswith("\n"):  # a torn last write: never acknowledged, never published
                logger.warning("ignoring the unterminated last line %s of %s", number, path)
                break
            try:
                notes.append(json.loads(line)["note"])
            except (ValueError, KeyError, TypeError) as exc:
                raise SigningRefused(f"the signed-checkpoint journal {path} is corrupt at line {number}") from exc
    return notes


def journal_append(note: str) -> None:
    """Append `note` to the journal and fsync it (and its directory when the file is new)."""
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (json.dumps({"note": note}, ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# --- Signing ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Signed:
    size: int
    root: bytes
    note: str
    in_database: bool
    in_journal: bool


def signed_history() -> dict[int, Signed]:
    """Every checkpoint the platform ever signed, by tree size: the database rows and the
    journal, each note's signature checked. Refuses forks (two roots at one size), rows whose
    columns differ from their note, and journal entries whose rows were deleted."""
    found: dict[int, Signed] = {}

    def add(note: str, *, row: Checkpoint | None) -> None:
        label = f"checkpoint row {row.tree_size}" if row is not None else "journal entry"
        try:
            size, root = checkpoint_open(note)
        except NoteError as exc:
            raise SigningRefused(f"{label} does not carry a valid platform signature: {exc}") from exc
        if row is not None and (row.tree_size != size or row.root_hash != root.hex()):
            raise SigningRefused(f"{label}: the stored size or root differ from its signed note")
        known = found.get(size)
        if known is not None and known.root != root:
            raise SigningRefused(f"two different signed roots for tree size {size}: the log was forked")
        found[size] = Signed(size, root, note, (row is not None) or bool(known and known.in_database),
                             (row is None) or bool(known and known.in_journal))

    for row in Checkpoint.objects.order_by("tree_size").iterator():
        add(row.note, row=row)
    for note in journal_notes():
        add(note, row=None)
    deleted = sorted(size for size, signed in found.items() if not signed.in_database)
    if deleted:
        raise SigningRefused(f"the database lost the signed checkpoint(s) at tree size {deleted[:5]} "
                             f"that the journal {journal_path()} records: checkpoint rows were deleted")
    return found


def _lock_signing() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SIGN_LOCK_KEY])


def _anchored_prefix(last: Signed, earlier: list[Signed]) -> tuple[merkle.CompactRange, str]:
    """The compact range of the first `last.size` leaves, taken from the node store but only
    after it proved to reproduce the signed root `last.root`; also the hash of event `last.size`,
    proved included under that root; and every `earlier` signed root proved consistent with it."""
    size = last.size
    nodes_fill(upto=size)

    def compute(get: merkle.NodeGetter) -> tuple:
        stack = [get(level, index) for level, index in merkle.CompactRange.decompose(size)]
        leaf = get(0, size - 1)
        path = merkle.inclusion_proof(size - 1, size, get)
        proofs = [merkle.consistency_proof(old.size, size, get) for old in earlier]
        return stack, leaf, path, proofs

    stack, leaf, path, proofs = _with_nodes(size, compute)
    prefix = merkle.CompactRange(size, stack)
    if prefix.root() != last.root:
        raise SigningRefused(f"the stored events and Merkle nodes no longer produce the root of the signed "
                             f"checkpoint at tree size {size}: the log was rewritten")
    try:
        merkle.verify_inclusion(size - 1, size, leaf, path, last.root)
    except merkle.ProofError as exc:
        raise SigningRefused(f"event {size} in the database is not the one the signed checkpoint at "
                             f"tree size {size} covers: the log was rewritten") from exc
    for old, proof in zip(earlier, proofs, strict=True):
        try:
            merkle.verify_consistency(old.size, size, old.root, last.root, proof)
        except merkle.ProofError as exc:
            raise SigningRefused(f"the signed checkpoints at tree sizes {old.size} and {size} are "
                                 f"inconsistent: the log was rewritten") from exc
    return prefix, leaf.hex()


def _grow(prefix: merkle.CompactRange, prev: str, end: int) -> bytes:
    """Extend `prefix` by the events prefix.size+1..end read and re-hashed from the database,
    checking their seqs and chain links; return the new root."""
    expected = prefix.size + 1
    for seq, body, stored_prev, stored_hash in canonical_rows(start=expected):
        if seq > end:
            break
        if seq != expected:
            raise SigningRefused(f"audit log has no event at seq {expected}")
        if stored_prev != prev or leaf_hash(body) != stored_hash:
            raise SigningRefused(f"audit chain broken at seq {seq}; run `manage.py audit verify`")
        prefix.append(bytes.fromhex(stored_hash))
        prev, expected = stored_hash, seq + 1
    if expected != end + 1:
        raise SigningRefused(f"audit log has no event at seq {expected}")
    return prefix.root()


def _checkpoint_create() -> Checkpoint:
    with transaction.atomic():
        _lock_signing()
        size = log_size()
        history = signed_history()
        longer = [s for s in history if s > size]
        if longer:
            raise SigningRefused(f"The audit log has {size} events but the platform signed a checkpoint "
                                 f"at tree size {max(longer)}: the log was truncated.")
        sizes = sorted(s for s in history if s > 0)
        if sizes:
            last = history[sizes[-1]]
            prefix, prev = _anchored_prefix(last, [history[s] for s in sizes[:-1]])
        else:
            prefix, prev = merkle.CompactRange(), GENESIS_PREV
        if 0 in history and history[0].root != merkle.EMPTY_ROOT:
            raise SigningRefused("the signed checkpoint at tree size 0 does not carry the empty root")
        root = _grow(prefix, prev, size)
        nodes_fill(upto=size)
        if not sizes and size and _with_nodes(size, lambda get: merkle.root(size, get)) != root:
            raise SigningRefused("the Merkle node store disagrees with the events")  # pragma: no cover
        if sizes and size > sizes[-1]:
            # The node store's view of the new part must agree with the events: a consistency
            # proof from the last signed size, built from the stored nodes, must verify against
            # the signed old root and the root recomputed from the events.
            first = sizes[-1]
            proof = _with_nodes(size, lambda get: merkle.consistency_proof(first, size, get))
            try:
                merkle.verify_consistency(first, size, history[first].root, root, proof)
            except merkle.ProofError as exc:
                raise SigningRefused(f"the Merkle node store disagrees with the events after tree size "
                                     f"{first}: {exc}") from exc
        if size in history:
            existing = checkpoint_at(size)
            if existing is None or history[size].root != root:  # pragma: no cover - checked above
                raise SigningRefused(f"the log does not match its signed checkpoint at tree size {size}")
            journal = set(journal_notes())
            for s in sorted(history):  # back-fill rows signed before the journal existed
                if history[s].note not in journal:
                    journal_append(history[s].note)
            return existing
        journal = set(journal_notes())
        for s in sorted(history):
            if history[s].note not in journal:
                journal_append(history[s].note)
        note = platform_note_sign(checkpoint_body(settings.AUDIT_LOG_ORIGIN, size, root))
        checkpoint = Checkpoint.objects.create(tree_size=size, root_hash=root.hex(), note=note,
                                               created_at=timezone.now())
        journal_append(note)  # before the commit: a signed note is never unrecorded outside
    logger.info("audit checkpoint at tree size %s, root %s", size, root.hex())
    for hook in CHECKPOINT_SIGNED:
        hook(checkpoint)  # audit.witnessing: to the witnesses, after commit (docs/witness.md)
    return checkpoint


# Called with each checkpoint signed (inside its transaction). audit.witnessing, which builds on
# this module, registers the send to the witnesses here when it is imported (by AuditConfig.ready).
CHECKPOINT_SIGNED: list[Callable[[Checkpoint], None]] = []


def checkpoint_create() -> Checkpoint:
    """Sign a checkpoint of the whole log now (or return the one of this size), only after
    proving the log consistent with every checkpoint the platform signed (docs/audit.md,
    "Signing"). A refusal raises SigningRefused and is recorded as a red supervision warning."""
    try:
        return _checkpoint_create()
    except LogInconsistent as exc:
        refused = exc if isinstance(exc, SigningRefused) else SigningRefused(exc.message)
        _refusal_record(refused)
        logger.error("audit checkpoint refused: %s", refused.message)
        if refused is exc:
            raise
        raise refused from exc


def _refusal_record(exc: LogInconsistent) -> None:
    try:
        with transaction.atomic():
            CheckpointRefusal.objects.create(at=timezone.now(), log_size=log_size(), problem=exc.message[:1000])
    except DatabaseError:  # pragma: no cover - the refusal itself stands
        logger.exception("could not record the checkpoint refusal")


# --- Proofs ----------------------------------------------------------------------------

@dataclass
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]
    root: bytes
    checkpoint: Checkpoint | None

    @property
    def leaf_index(self) -> int:
        return self.seq - 1


@dataclass
class ConsistencyProof:
    first: int
    second: int
    hashes: list[bytes]
    first_root: bytes
    second_root: bytes
    first_checkpoint: Checkpoint | None
    second_checkpoint: Checkpoint | None


def inclusion_proof(*, seq: int, tree_size: int | None = None) -> InclusionProof:
    """Proof that event `seq` is in the tree of `tree_size` (default: the latest checkpoint)."""
    size = _latest_size_or_404() if tree_size is None else tree_size
    _check_size(size, "tree_size", log_size())
    if not 1 <= seq <= size:
        raise DomainError(f"Event {seq} is not in a tree of size {size}.", fields={"seq": [f"1 to {size}"]})
    leaf, path, root = _with_nodes(size, lambda get: (
        get(0, seq - 1), merkle.inclusion_proof(seq - 1, size, get), merkle.root(size, get)))
    try:
        merkle.verify_inclusion(seq - 1, size, leaf, path, root)
    except merkle.ProofError as exc:  # pragma: no cover - the algorithms agree (tests)
        raise LogInconsistent(str(exc)) from exc
    return InclusionProof(seq=seq, tree_size=size, leaf_hash=leaf, hashes=path, root=root,
                          checkpoint=_check_against_checkpoint(size, root))


def consistency_proof(*, first: int, second: int | None = None) -> ConsistencyProof:
    """Proof that the tree of size `first` is a prefix of the one of size `second`
    (default: the latest checkpoint)."""
    second = _latest_size_or_404() if second is None else second
    _check_size(second, "second", log_size())
    if not 0 <= first <= second:
        raise DomainError(f"Size {first} is not between 0 and {second}.",
                          fields={"first": [f"0 to {second}"]})
    first_root, second_root, path = _with_nodes(second, lambda get: (
        merkle.root(first, get), merkle.root(second, get), merkle.consistency_proof(first, second, get)))
    try:
        merkle.verify_consistency(first, second, first_root, second_root, path)
    except merkle.ProofError as exc:  # pragma: no cover - the algorithms agree (tests)
        raise LogInconsistent(str(exc)) from exc
    return ConsistencyProof(first=first, second=second, hashes=path, first_root=first_root,
                            second_root=second_root,
                            first_checkpoint=_check_against_checkpoint(first, first_root),
                            second_checkpoint=_check_against_checkpoint(second, second_root))


def inclusion_paths(seqs: Iterable[int], tree_size: int) -> dict[int, list[bytes]]:
    """Inclusion proofs of several events in the tree of `tree_size`, with one node fetch."""
    wanted = sorted(set(seqs))
    if wanted and not 1 <= wanted[0] <= wanted[-1] <= tree_size:
        raise DomainError(f"Events must lie in a tree of size {tree_size}.")
    return _with_nodes(tree_size, lambda get: {
        seq: merkle.inclusion_proof(seq - 1, tree_size, get) for seq in wanted})


# --- Verification from the events ---------------------------------------------------------

@dataclass
class LogReport:
    ok: bool = True
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_PREV
    checkpoints_checked: int = 0
    kind: str = ""  # "chain", "checkpoint", "truncated" or "signature" when not ok
    first_broken_seq: int | None = None
    problem: str = ""
    checkpoint_sizes: list[int] = field(default_factory=list)

    def fail(self, kind: str, problem: str, seq: int | None = None) -> LogReport:
        self.ok, self.kind, self.problem, self.first_broken_seq = False, kind, problem, seq
        return self


Expected = dict[int, list[tuple[bytes, str]]]  # tree size -> [(signed root, label)]


def _expected_roots(report: LogReport, notes: Iterable[tuple[str, str]]) -> Expected:
    wanted: Expected = {}

    def kept() -> Iterable[tuple[str, str, Checkpoint | None]]:
        for checkpoint in Checkpoint.objects.order_by("tree_size").iterator():
            yield checkpoint.note, f"kept checkpoint at tree size {checkpoint.tree_size}", checkpoint
        for note, label in notes:
            yield note, label, None

    for note, label, row in kept():
        try:
            size, root = checkpoint_open(note)
        except NoteError as exc:
            report.fail("signature", f"{label}: {exc}")
            return {}
        if row is not None and (row.tree_size != size or row.root_hash != root.hex()):
            report.fail("signature", f"{label}: stored size or root differ from its signed note")
            return {}
        wanted.setdefault(size, []).append((root, label))
    return wanted


def _roots_match(report: LogReport, wanted: Expected, size: int, root: bytes) -> bool:
    for signed_root, label in wanted[size]:
        if signed_root != root:
            report.fail("checkpoint", f"the Merkle root recomputed from events 1..{size} "
                                      f"differs from the {label}", size)
            return False
        report.checkpoints_checked += 1
    return True


def log_verify(*, notes: Iterable[tuple[str, str]] = (), progress: Callable[[int], Any] | None = None,
               progress_every: int = 10000) -> LogReport:
    """Re-hash the chain in seq order (streaming) and check every kept checkpoint, and every
    (note, label) in `notes`, against the Merkle root recomputed from the events."""
    report = LogReport()
    wanted = _expected_roots(report, notes)
    if not report.ok:
        return report
    report.checkpoint_sizes = sizes = sorted(wanted)
    pending = iter(sizes)
    next_size = next(pending, None)
    if next_size == 0:
        if not _roots_match(report, wanted, 0, merkle.EMPTY_ROOT):
            return report
        next_size = next(pending, None)
    tree = merkle.CompactRange()
    expected_seq, prev = 1, GENESIS_PREV
    for seq, body, stored_prev, stored_hash in canonical_rows():
        if seq != expected_seq:
            return report.fail("chain", f"gap: expected seq {expected_seq}, found {seq}", expected_seq)
        if stored_prev != prev:
            return report.fail("chain", "prev does not match the hash of the previous event", seq)
        if leaf_hash(body) != stored_hash:
            return report.fail("chain", "stored hash does not match the event's content", seq)
        tree.append(bytes.fromhex(stored_hash))
        prev, expected_seq = stored_hash, seq + 1
        report.checked += 1
        if next_size == seq:
            if not _roots_match(report, wanted, seq, tree.root()):
                return report
            next_size = next(pending, None)
        if progress and report.checked % progress_every == 0:
            progress(report.checked)
    report.head_seq, report.head_hash = expected_seq - 1, prev
    if progress:
        progress(report.checked)
    if next_size is not None:
        return report.fail("truncated", f"the log has {report.head_seq} events but the "
                                        f"{wanted[next_size][0][1]} covers {next_size}", report.head_seq + 1)
    return report
