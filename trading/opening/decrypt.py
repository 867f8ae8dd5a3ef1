"""Opening one stored envelope (streaming; memory does not grow with its size).

`decrypt_bid` re-hashes the stored bytes while it decrypts them and compares with the
SHA-256 received at submission, checks the header against the bid, decrypts with the
released DEK (or the opening key rebuilt from custodian shares), verifies the manifest
and every file, and writes the files to a private work directory
(`opened-bids/.partial/bid-<pk>-<random>/`). It never touches the database and never moves
the files into place itself: the step that saves a successful outcome hands the work
directory over (`hand_over`), and it is renamed to `opened-bids/<tender>/<bid>/` when that
transaction commits; the caller deletes a work directory nobody took over (`discard_work`).
So decrypted files exist under their final name only with a saved outcome; a crash leaves
at most a work directory, which the orphan sweeper (trading/bids/sweeper.py) removes, or
moves into place when the outcome was committed.

Classification of failures (DOMAIN.md "Opening"; 电子招标投标办法 Art 31, 实施条例 Art 35):
- the stored envelope is missing or its hash changed: not the bidder's fault;
- the first chunk does not authenticate with the released DEK: a wrong DEK, which the
  bidder may correct while the decryption window is open (`retryable`);
- anything wrong after the first chunk authenticated (truncated, re-ordered, missing
  final chunk, manifest or file mismatch), or an opening recipient that does not unwrap:
  the envelope the bidder signed is defective, the bidder's fault.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import sbe1
from trading.bids import storage
from trading.models import Bid, Fault


@dataclass
class Outcome:
    ok: bool
    code: str = ""
    message: str = ""
    fault: str = ""  # Fault.BIDDER / Fault.OTHER when not ok
    retryable: bool = False
    form: dict = field(default_factory=dict)
    manifest_sha256: str = ""
    files: list = field(default_factory=list)
    work_dir: Path | None = None  # the decrypted files, until handed over or discarded
    handed_over: bool = False


class _HashingReader:
    """Reads a file and hashes every byte read (read and readline, as sbe1 uses them)."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def readline(self, limit: int = -1) -> bytes:
        data = self.f.readline(limit)
        self.digest.update(data)
        self.size += len(data)
        return data

    def finish(self) -> tuple[str, int]:
        while self.read(storage.READ_SIZE):
            pass
        return self.digest.hexdigest(), self.size


class _Sink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.current: BinaryIO | None = None

    def __call__(self, entry: sbe1.FileEntry) -> BinaryIO:
        self.close()
        self.current = (self.directory / entry.name).open("xb")
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


def target_dir(bid: Bid) -> Path:
    return storage.opened_root() / str(bid.tender_id) / str(bid.pk)


def partial_root() -> Path:
    return storage.opened_root() / ".partial"


def work_prefix(bid_pk: int) -> str:
    return f"bid-{bid_pk}-"


def move_into_place(work: Path, final: Path) -> None:
    """Rename a work directory to its final name (replacing an older copy)."""
    if not work.exists():
        return
    if final.exists():
        shutil.rmtree(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    work.rename(final)


def hand_over(bid: Bid, outcome: Outcome) -> None:
    """Called by the step that saves `outcome`: move the files into place when it commits."""
    if outcome.work_dir is None:
        return
    work, final = outcome.work_dir, target_dir(bid)
    outcome.handed_over = True
    storage.after_commit(lambda: move_into_place(work, final))


def discard_work(outcome: Outcome) -> None:
    """Delete a work directory that no saved outcome took over."""
    if outcome.work_dir is not None and not outcome.handed_over:
        shutil.rmtree(outcome.work_dir, ignore_errors=True)


def decrypt_bid(bid: Bid, *, dek: bytes | None = None, private_key=None) -> Outcome:
    """Decrypt and verify `bid`'s stored envelope with a DEK or the opening private key.

    On success the files are in `outcome.work_dir`: the caller saves the outcome (which
    calls `hand_over`) and then calls `discard_work`."""
    path = storage.path_of(bid.storage_name)
    if not path.exists():
        return Outcome(False, "envelope_missing", "the stored envelope is missing", Fault.OTHER)
    root = partial_root()
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=work_prefix(bid.pk), dir=root))
    sink = _Sink(work)
    keep = False
    try:
        with path.open("rb") as f:
            reader = _HashingReader(f)
            outcome = _decrypt(bid, reader, sink, dek=dek, private_key=private_key)
            sink.close()
            if outcome.ok or outcome.fault == Fault.BIDDER:
                sha, size = reader.finish()
                if sha != bid.envelope_sha256 or size != bid.size:
                    # The stored bytes are not those received: never the bidder's fault.
                    return Outcome(False, "envelope_hash_mismatch",
                                   "the stored envelope does not match the SHA-256 received at submission",
                                   Fault.OTHER)
        if outcome.ok:
            outcome.work_dir = work
            keep = True
        return outcome
    finally:
        sink.close()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _decrypt(bid: Bid, reader: _HashingReader, sink: _Sink, *, dek, private_key) -> Outcome:
    try:
        header = sbe1.read_header(reader)
        sbe1.check_header(header, tender=str(bid.tender_id), lot=str(bid.lot_id), bidder=str(bid.bidder_id),
                          bidder_key_id=bid.bidder_key.key_id, opening_key_id=bid.opening_key.key_id)
    except sbe1.SBE1Error as exc:
        return Outcome(False, exc.code, exc.args[0], Fault.OTHER)
    if private_key is not None:
        try:
            dek = sbe1.unwrap_dek(header, private_key, "opening")
        except sbe1.SBE1Error as exc:
            return Outcome(False, exc.code, f"the opening recipient does not unwrap: {exc.args[0]}", Fault.BIDDER)
    chunks = sbe1.decrypt_chunks(reader, header, dek)
    try:
        first = next(chunks)
    except sbe1.DecryptionError as exc:
        if private_key is not None:
            return Outcome(False, exc.code, exc.args[0], Fault.BIDDER)
        return Outcome(False, "wrong_dek", "the released DEK does not decrypt this envelope", Fault.BIDDER,
                       retryable=True)
    try:
        manifest = sbe1.read_plaintext(itertools.chain([first], chunks), sink)
    except sbe1.SBE1Error as exc:
        return Outcome(False, exc.code, exc.args[0][:300], Fault.BIDDER)
    files = [dict(f.to_json()) for f in manifest.files]
    return Outcome(True, form=manifest.form, manifest_sha256=hashlib.sha256(manifest.line).hexdigest(), files=files)
