"""The SBE1 magic and header line: building, parsing, validation, expectations."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, BinaryIO

from .canonical import dumps, loads_canonical
from .encoding import b64d, b64e, is_hex64
from .errors import FormatError, HeaderMismatchError, InvalidKeyError
from .keys import SPKI_LENGTH, load_public_key

MAGIC = b"SBE1\n"
VERSION = 1
SUITE = "P256-HKDF-SHA256-A256GCM"
DEFAULT_CHUNK_SIZE = 1_048_576
MAX_CHUNK_SIZE = 16 * 1_048_576
MAX_HEADER_LINE = 65_536  # bytes, including the "\n"
MAX_ID_LENGTH = 256
RECIPIENT_KINDS = ("bidder", "opening")
TAG_SIZE = 16
_HEADER_FIELDS = {"v", "suite", "tender", "lot", "bidder", "chunk_size", "nonce_prefix", "recipients"}
_RECIPIENT_FIELDS = {"kind", "key_id", "epk", "nonce", "wrapped_dek"}


@dataclass(frozen=True)
class Recipient:
    kind: str  # "bidder" | "opening"
    key_id: str
    epk: bytes  # SPKI DER of the ephemeral key
    nonce: bytes  # 12 bytes
    wrapped_dek: bytes  # 48 bytes: AES-GCM(kek, dek) || tag

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "key_id": self.key_id, "epk": b64e(self.epk),
                "nonce": b64e(self.nonce), "wrapped_dek": b64e(self.wrapped_dek)}


@dataclass(frozen=True)
class Header:
    tender: str
    lot: str
    bidder: str
    chunk_size: int
    nonce_prefix: bytes
    recipients: tuple[Recipient, ...]
    line: bytes  # the header line exactly as in the file, including its "\n"

    @property
    def aad(self) -> bytes:
        """AAD of every chunk: SHA-256 of the header line bytes including the "\\n"."""
        return hashlib.sha256(self.line).digest()

    @property
    def size(self) -> int:
        """Bytes before the first chunk (magic + header line)."""
        return len(MAGIC) + len(self.line)

    def recipient(self, kind: str) -> Recipient:
        for r in self.recipients:
            if r.kind == kind:
                return r
        raise FormatError(f"no {kind!r} recipient", "bad_recipients")

    def to_json(self) -> dict[str, Any]:
        return {"v": VERSION, "suite": SUITE, "tender": self.tender, "lot": self.lot, "bidder": self.bidder,
                "chunk_size": self.chunk_size, "nonce_prefix": b64e(self.nonce_prefix),
                "recipients": [r.to_json() for r in self.recipients]}


def build_header(*, tender: str, lot: str, bidder: str, chunk_size: int, nonce_prefix: bytes,
                 recipients: tuple[Recipient, ...]) -> Header:
    """Make a Header (with its canonical line) from fields; validates like ``parse_header_line``."""
    doc = {"v": VERSION, "suite": SUITE, "tender": tender, "lot": lot, "bidder": bidder,
           "chunk_size": chunk_size, "nonce_prefix": b64e(nonce_prefix),
           "recipients": [r.to_json() for r in recipients]}
    return _validate(doc, dumps(doc) + b"\n")


def parse_header_line(line: bytes) -> Header:
    """Parse and validate one header line (canonical JSON + "\\n")."""
    if not line.endswith(b"\n"):
        raise FormatError("header line does not end with a newline", "truncated")
    if len(line) > MAX_HEADER_LINE:
        raise FormatError(f"header line longer than {MAX_HEADER_LINE} bytes", "header_too_long")
    try:
        doc = loads_canonical(line[:-1])
    except FormatError as exc:
        raise FormatError(f"header is not canonical JSON: {exc.args[0]}", "header_not_canonical") from exc
    return _validate(doc, line)


def read_header(stream: BinaryIO) -> Header:
    """Read the magic and the header line from ``stream``, leaving it at the first chunk."""
    magic = _read_exact(stream, len(MAGIC))
    if magic != MAGIC:
        raise FormatError("not an SBE1 envelope (bad magic)", "bad_magic")
    line = stream.readline(MAX_HEADER_LINE + 1) if hasattr(stream, "readline") else _readline(stream)
    if len(line) > MAX_HEADER_LINE:
        raise FormatError(f"header line longer than {MAX_HEADER_LINE} bytes", "header_too_long")
    return parse_header_line(line)


def parse_header(data: bytes) -> Header:
    """Parse the header from the start of an envelope held in memory (or a prefix of it)."""
    if data[: len(MAGIC)] != MAGIC:
        raise FormatError("not an SBE1 envelope (bad magic)", "bad_magic")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER_LINE)
    if end < 0:
        if len(data) - len(MAGIC) >= MAX_HEADER_LINE:
            raise FormatError(f"header line longer than {MAX_HEADER_LINE} bytes", "header_too_long")
        raise FormatError("header line does not end with a newline", "truncated")
    return parse_header_line(data[len(MAGIC): end + 1])


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    return data if data is not None else b""


def _readline(stream: BinaryIO) -> bytes:
    out = bytearray()
    while len(out) <= MAX_HEADER_LINE:
        b = stream.read(1)
        if not b:
            break
        out += b
        if b == b"\n":
            break
    return bytes(out)


def _bad(message: str, code: str = "header_invalid") -> FormatError:
    return FormatError(message, code)


def _check_id(doc: dict[str, Any], name: str) -> str:
    value = doc[name]
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise _bad(f"{name} must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    return value


def _validate(doc: Any, line: bytes) -> Header:
    if not isinstance(doc, dict):
        raise _bad("header is not a JSON object")
    if "v" in doc and (doc["v"] != VERSION or isinstance(doc["v"], bool)):
        raise _bad(f"unsupported envelope version {doc['v']!r}", "unsupported_version")
    if "suite" in doc and doc["suite"] != SUITE:
        raise _bad(f"unsupported suite {doc['suite']!r}", "unsupported_suite")
    if set(doc) != _HEADER_FIELDS:
        missing, extra = _HEADER_FIELDS - set(doc), set(doc) - _HEADER_FIELDS
        raise _bad(f"header fields wrong (missing {sorted(missing)}, unknown {sorted(extra)})")
    chunk_size = doc["chunk_size"]
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise _bad(f"chunk_size must be an integer in 1..{MAX_CHUNK_SIZE}")
    nonce_prefix = b64d(doc["nonce_prefix"], length=7, what="nonce_prefix")
    recipients = doc["recipients"]
    if not isinstance(recipients, list) or len(recipients) != 2:
        raise _bad("exactly two recipients are required (one bidder, one opening)", "bad_recipients")
    parsed = tuple(_recipient(r) for r in recipients)
    if sorted(r.kind for r in parsed) != sorted(RECIPIENT_KINDS):
        raise _bad("recipients must be exactly one 'bidder' and one 'opening'", "bad_recipients")
    if parsed[0].key_id == parsed[1].key_id:
        raise _bad("bidder and opening recipients have the same key_id", "bad_recipients")
    return Header(_check_id(doc, "tender"), _check_id(doc, "lot"), _check_id(doc, "bidder"), chunk_size,
                  nonce_prefix, parsed, line)


def _recipient(doc: Any) -> Recipient:
    if not isinstance(doc, dict) or set(doc) != _RECIPIENT_FIELDS:
        raise _bad(f"a recipient must have exactly the fields {sorted(_RECIPIENT_FIELDS)}", "bad_recipients")
    if doc["kind"] not in RECIPIENT_KINDS:
        raise _bad(f"unknown recipient kind {doc['kind']!r}", "bad_recipients")
    if not is_hex64(doc["key_id"]):
        raise _bad("recipient key_id must be 64 lowercase hex characters", "bad_recipients")
    epk = b64d(doc["epk"], length=SPKI_LENGTH, what="epk")
    try:
        load_public_key(epk)
    except InvalidKeyError as exc:
        raise _bad(f"epk is not a P-256 public key: {exc.args[0]}", "bad_recipients") from exc
    return Recipient(doc["kind"], doc["key_id"], epk, b64d(doc["nonce"], length=12, what="recipient nonce"),
                     b64d(doc["wrapped_dek"], length=32 + TAG_SIZE, what="wrapped_dek"))


def check_header(header: Header, *, tender: str | None = None, lot: str | None = None,
                 bidder: str | None = None, bidder_key_id: str | None = None,
                 opening_key_id: str | None = None) -> None:
    """Raise HeaderMismatchError unless every given expectation holds (None = not checked)."""
    expected = {"tender": (tender, header.tender), "lot": (lot, header.lot), "bidder": (bidder, header.bidder),
                "bidder key_id": (bidder_key_id, header.recipient("bidder").key_id),
                "opening key_id": (opening_key_id, header.recipient("opening").key_id)}
    for name, (want, got) in expected.items():
        if want is not None and want != got:
            raise HeaderMismatchError(f"envelope {name} is {got!r}, expected {want!r}",
                                      "header_mismatch_" + name.replace(" ", "_"))
