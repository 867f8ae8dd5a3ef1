"""The sealed plaintext: a manifest line, then the bytes of each file in order.

    manifest line: canonical JSON + "\\n"
      {"form":{...}, "files":[{"name":"technical.pdf","size":123,"sha256":"<hex>"}, ...]}
    then the bytes of each listed file, concatenated, nothing after the last one.

``build_plaintext`` streams it (hashing every file first, then re-checking the hash while
streaming so a file changed in between is caught); ``read_plaintext`` consumes decrypted
chunks, routes each file's bytes to a caller-provided sink and checks sizes and hashes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from .canonical import dumps, loads_canonical, normalize
from .encoding import is_hex64
from .errors import FormatError, ManifestError

MAX_MANIFEST_LINE = 1_048_576  # bytes, including the "\n"
MAX_FILES = 1000
MAX_NAME_BYTES = 255
READ_SIZE = 1_048_576
_FORBIDDEN_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_DECIMAL = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str  # lowercase hex

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class Manifest:
    form: dict[str, Any]
    files: tuple[FileEntry, ...]
    line: bytes  # canonical JSON + "\n", exactly as sealed

    @property
    def payload_size(self) -> int:
        return sum(f.size for f in self.files)


class Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def check_file_name(name: object) -> str:
    """File names are plain names, safe to create in a directory on any OS."""
    if not isinstance(name, str) or not name or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise ManifestError(f"file name must be 1..{MAX_NAME_BYTES} UTF-8 bytes", "bad_file_name")
    if name in (".", "..") or _FORBIDDEN_NAME_CHARS.search(name) or name[0] == " " or name[-1] in " .":
        raise ManifestError(f"file name {name!r} is not allowed", "bad_file_name")
    return name


def check_form_price(form: dict[str, Any]) -> None:
    """Writers insist that a ``price`` item is a plain non-negative decimal string."""
    if "price" in form and not (isinstance(form["price"], str) and _DECIMAL.fullmatch(form["price"])):
        raise ManifestError('form "price" must be a decimal string such as "1234567.89"', "bad_price")


def make_manifest(form: dict[str, Any], files: Sequence[FileEntry]) -> Manifest:
    if not isinstance(form, dict):
        raise ManifestError("form must be a JSON object")
    form = normalize(form)
    check_form_price(form)
    doc = {"form": form, "files": [f.to_json() for f in files]}
    return _validate(doc, dumps(doc) + b"\n")


def parse_manifest_line(line: bytes) -> Manifest:
    try:
        doc = loads_canonical(line[:-1])
    except FormatError as exc:
        raise ManifestError(f"manifest is not canonical JSON: {exc.args[0]}") from exc
    return _validate(doc, line)


def _validate(doc: Any, line: bytes) -> Manifest:
    if len(line) > MAX_MANIFEST_LINE:
        raise ManifestError(f"manifest longer than {MAX_MANIFEST_LINE} bytes")
    if not isinstance(doc, dict) or set(doc) != {"form", "files"}:
        raise ManifestError('manifest must have exactly the fields "form" and "files"')
    if not isinstance(doc["form"], dict):
        raise ManifestError("manifest form must be an object")
    files = doc["files"]
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise ManifestError(f"manifest files must be a list of at most {MAX_FILES}")
    entries: list[FileEntry] = []
    for f in files:
        if not isinstance(f, dict) or set(f) != {"name", "size", "sha256"}:
            raise ManifestError('each file must have exactly "name", "size" and "sha256"')
        size = f["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestError("file size must be a non-negative integer")
        if not is_hex64(f["sha256"]):
            raise ManifestError("file sha256 must be 64 lowercase hex characters")
        entries.append(FileEntry(check_file_name(f["name"]), size, f["sha256"]))
    if len({e.name for e in entries}) != len(entries):
        raise ManifestError("duplicate file name in manifest", "bad_file_name")
    return Manifest(doc["form"], tuple(entries), line)


# --- Building ---------------------------------------------------------------------------

FileInput = str | os.PathLike[str] | tuple[str, bytes | str | os.PathLike[str] | BinaryIO]


@dataclass
class _Source:
    name: str
    opener: Callable[[], BinaryIO]
    owned: bool  # close after use


def _source(item: FileInput) -> _Source:
    if isinstance(item, tuple):
        name, data = item
    else:
        name, data = Path(item).name, item
    if isinstance(data, (bytes, bytearray, memoryview)):
        blob = bytes(data)
        return _Source(name, lambda: io.BytesIO(blob), True)
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        return _Source(name, lambda: path.open("rb"), True)
    if hasattr(data, "read") and hasattr(data, "seek"):
        start = data.tell()

        def rewind() -> BinaryIO:
            data.seek(start)
            return data

        return _Source(name, rewind, False)
    raise TypeError(f"unsupported file input for {name!r}: {type(data).__name__}")


def _blocks(stream: BinaryIO, read_size: int) -> Iterator[bytes]:
    while block := stream.read(read_size):
        yield block


def _hash_source(src: _Source, read_size: int) -> FileEntry:
    stream = src.opener()
    try:
        h, size = hashlib.sha256(), 0
        for block in _blocks(stream, read_size):
            h.update(block)
            size += len(block)
    finally:
        if src.owned:
            stream.close()
    return FileEntry(check_file_name(src.name), size, h.hexdigest())


def build_plaintext(form: dict[str, Any], files: Sequence[FileInput], *,
                    read_size: int = READ_SIZE) -> Iterator[bytes]:
    """Stream the plaintext of a bid: the manifest line first, then each file's bytes.

    Files are hashed now (so errors in the form or names surface before any output);
    their bytes are read again lazily while the iterator is consumed.
    """
    sources = [_source(f) for f in files]
    manifest = make_manifest(form, [_hash_source(s, read_size) for s in sources])
    return _stream(manifest, sources, read_size)


def manifest_of(form: dict[str, Any], files: Sequence[FileInput], *, read_size: int = READ_SIZE) -> Manifest:
    """The manifest ``build_plaintext`` would write (hashes every file once)."""
    return make_manifest(form, [_hash_source(_source(f), read_size) for f in files])


def _stream(manifest: Manifest, sources: list[_Source], read_size: int) -> Iterator[bytes]:
    yield manifest.line
    for src, entry in zip(sources, manifest.files, strict=True):
        stream = src.opener()
        try:
            h, size = hashlib.sha256(), 0
            for block in _blocks(stream, read_size):
                size += len(block)
                if size > entry.size:
                    break
                h.update(block)
                yield block
        finally:
            if src.owned:
                stream.close()
        if size != entry.size or h.hexdigest() != entry.sha256:
            raise ManifestError(f"file {entry.name!r} changed while it was being sealed", "file_changed")


# --- Reading ----------------------------------------------------------------------------

class _HashOnly:
    def write(self, data: bytes, /) -> int:
        return len(data)


def read_plaintext(chunks: Iterable[bytes], open_sink: Callable[[FileEntry], Sink] | None = None) -> Manifest:
    """Consume decrypted plaintext chunks; verify every file's size and SHA-256.

    ``open_sink(entry)`` is called once per file, in manifest order, and must return an
    object with ``write(bytes)``; the file's bytes are written to it as they arrive. Data
    written before an error is unverified: on any exception the caller must discard it.
    Returns the manifest once every file has been checked.
    """
    it = iter(chunks)
    head = bytearray()
    for chunk in it:
        start = len(head)
        head += chunk
        end = head.find(b"\n", start)
        if end >= 0:
            break
        if len(head) >= MAX_MANIFEST_LINE:
            raise ManifestError(f"manifest longer than {MAX_MANIFEST_LINE} bytes")
    else:
        raise ManifestError("plaintext ends inside the manifest line", "truncated_manifest")
    if end + 1 > MAX_MANIFEST_LINE:
        raise ManifestError(f"manifest longer than {MAX_MANIFEST_LINE} bytes")
    manifest = parse_manifest_line(bytes(head[: end + 1]))
    rest = memoryview(bytes(head[end + 1:]))
    del head
    sink_for = open_sink or (lambda _entry: _HashOnly())

    pending: list[memoryview] = [rest] if len(rest) else []

    def pieces() -> Iterator[memoryview]:
        yield from pending
        for c in it:
            if c:
                yield memoryview(c)

    source = pieces()
    leftover: memoryview | None = None
    for entry in manifest.files:
        sink, h, need = sink_for(entry), hashlib.sha256(), entry.size
        while need:
            piece = leftover if leftover is not None else next(source, None)
            leftover = None
            if piece is None:
                raise ManifestError(f"file {entry.name!r} is shorter than its manifest size {entry.size}",
                                    "file_size_mismatch")
            take, leftover = (piece, None) if len(piece) <= need else (piece[:need], piece[need:])
            h.update(take)
            sink.write(take)
            need -= len(take)
        if h.hexdigest() != entry.sha256:
            raise ManifestError(f"file {entry.name!r} does not match its manifest sha256", "file_hash_mismatch")
    if leftover is not None or next(source, None) is not None:
        raise ManifestError("plaintext continues after the last file (sizes do not match the manifest)",
                            "file_size_mismatch")
    return manifest
