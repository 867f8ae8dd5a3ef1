"""The envelope store: files named by their SHA-256, written once, never modified.

Layout under `envelope_root()` (settings.ENVELOPE_STORE_DIR, default MEDIA_ROOT/envelopes):

    .incoming/<random>.part                uploads being received (deleted or moved on)
    .staged/<sha256>.<random>.sbe1         accepted inside a transaction not yet committed
    ab/abcdef…64 hex.sbe1                  stored envelopes, mode 0444

An upload is streamed to `.incoming/` while it is hashed; inside the accepting transaction
it is moved (renamed, same file system) to `.staged/`, and only when that transaction
commits (`transaction.on_commit`, `after_commit`) to its final name. So a file under its
final name always has a committed Bid row; a rollback or a failed COMMIT leaves at most a
staged file, and a crash between COMMIT and the rename leaves a staged file whose row
exists: the orphan sweeper (`trading/bids/sweeper.py`) deletes the first kind after a grace
period and finishes the rename of the second. An identical envelope already stored is
kept as it is (same bytes, same name).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

READ_SIZE = 1_048_576


def envelope_root() -> Path:
    root = getattr(settings, "ENVELOPE_STORE_DIR", None) or (Path(settings.MEDIA_ROOT) / "envelopes")
    return Path(root)


def opened_root() -> Path:
    """Where decrypted bid files go after the opening (for the evaluation)."""
    return Path(getattr(settings, "OPENED_BIDS_DIR", None) or (Path(settings.MEDIA_ROOT) / "opened-bids"))


def records_root() -> Path:
    return Path(getattr(settings, "OPENING_RECORDS_DIR", None) or (Path(settings.MEDIA_ROOT) / "opening-records"))


def storage_name(sha256_hex: str) -> str:
    return f"{sha256_hex[:2]}/{sha256_hex}.sbe1"


def path_of(name: str) -> Path:
    path = (envelope_root() / name).resolve()
    if envelope_root().resolve() not in path.parents:
        raise ValueError("storage name escapes the envelope store")
    return path


@contextlib.contextmanager
def incoming_file() -> Iterator[tuple[BinaryIO, Path]]:
    """A fresh temporary file in the store's incoming area; removed on exit unless moved."""
    incoming = envelope_root() / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".part", dir=incoming)
    path = Path(name)
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f, path
    finally:
        path.unlink(missing_ok=True)


def after_commit(fn: Callable[[], object]) -> None:
    """Run a file step (a rename into place) when the current transaction commits.

    Robust: a failing rename after the COMMIT is logged, not raised (the rows are committed;
    the sweeper finishes the rename). Marked so that the test harness can emulate the commit
    of the test's own wrapping transaction for file steps only (the root conftest.py)."""
    fn._ptrade_file_commit = True  # type: ignore[attr-defined]
    transaction.on_commit(fn, robust=True)


def staged_root() -> Path:
    return envelope_root() / ".staged"


def stage(incoming: Path, sha256_hex: str) -> Path:
    """Move an incoming upload to `.staged/` (inside the accepting transaction); returns its path."""
    staged = staged_root()
    staged.mkdir(parents=True, exist_ok=True)
    path = staged / f"{sha256_hex}.{secrets.token_hex(8)}.sbe1"
    os.replace(incoming, path)
    return path


def staged_sha256(path: Path) -> str | None:
    """The envelope SHA-256 a staged file's name carries, or None for a foreign name."""
    head = path.name.split(".", 1)[0]
    return head if len(head) == 64 and all(c in "0123456789abcdef" for c in head) else None


def store(incoming: Path, sha256_hex: str) -> str:
    """Move an incoming file to its final name (idempotent for identical content); returns the name."""
    name = storage_name(sha256_hex)
    final = path_of(name)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        incoming.unlink(missing_ok=True)
        return name  # same SHA-256: the same bytes are stored already
    os.replace(incoming, final)
    final.chmod(0o444)
    return name
