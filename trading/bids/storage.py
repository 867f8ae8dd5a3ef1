"""The envelope store: files named by their SHA-256, written once, never modified.

Layout under `envelope_root()` (settings.ENVELOPE_STORE_DIR, default MEDIA_ROOT/envelopes):

    .incoming/<random>.part      uploads being received (deleted or moved into place)
    ab/abcdef…64 hex.sbe1        stored envelopes, mode 0444

An upload is streamed to `.incoming/` while it is hashed; only inside the accepting
transaction is it moved (renamed, same file system) to its final name. An identical
envelope already stored is kept as it is (same bytes, same name).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

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


def store(incoming: Path, sha256_hex: str) -> str:
    """Move an incoming file to its final name (idempotent for identical content); returns the name."""
    name = storage_name(sha256_hex)
    final = path_of(name)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        return name  # same SHA-256: the same bytes are stored already
    os.replace(incoming, final)
    final.chmod(0o444)
    return name


def discard(name: str) -> None:
    """Remove a stored file that no committed row refers to (the accepting transaction rolled back)."""
    with contextlib.suppress(FileNotFoundError):
        path_of(name).unlink()


def file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while block := f.read(READ_SIZE):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
