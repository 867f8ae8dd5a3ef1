"""Opening one stored envelope (streaming; memory does not grow with its size).

`decrypt_bid` re-hashes the stored bytes while it decrypts them and compares with the
SHA-256 received at submission, checks the header against the bid, decrypts with the
released DEK (or the opening key rebuilt from custodian shares), verifies the manifest
and every file, and writes the files to a private directory that is moved into place
only on success. It never touches the database; the caller records the outcome.

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


def decrypt_bid(bid: Bid, *, dek: bytes | None = None, private_key=None) -> Outcome:
    """Decrypt and verify `bid`'s stored envelope with a DEK or the opening private key."""
    path = storage.path_of(bid.storage_name)
    if not path.exists():
        return Outcome(False, "envelope_missing", "the stored envelope is missing", Fault.OTHER)
    root = storage.opened_root() / ".partial"
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"bid-{bid.pk}-", dir=root))
    sink = _Sink(work)
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
            final = target_dir(bid)
            if final.exists():
                shutil.rmtree(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            work.rename(final)
        return outcome
    finally:
        sink.close()
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
