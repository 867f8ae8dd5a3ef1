"""C2SP signed notes, checkpoints and tlog-cosignature/v1 (Ed25519), free of Django.

Used by the witness service (witness.service) and by the platform to check the cosignatures
it receives (audit.witnessing, audit.trust). Formats (docs/witness.md):

- signed note (https://c2sp.org/signed-note): text lines, a blank line, then signature lines
  "— <key name> <base64(4-byte key ID || signature)>" (U+2014, space);
- a log's Ed25519 key (signature type 0x01): key ID = SHA-256(name || 0x0A || 0x01 || key)[:4];
- a cosigner's Ed25519 key (tlog-cosignature v1, signature type 0x04): key ID =
  SHA-256(name || 0x0A || 0x04 || key)[:4]; the signature is u64 big-endian POSIX time ||
  Ed25519 signature over "cosignature/v1\\ntime <time>\\n" + the checkpoint body (its lines and
  final newline, without signature lines);
- verifier keys (vkeys): "<name>+<hex key ID>+<base64(type byte || 32-byte key)>".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "
HASH_SIZE = 32
_NAME = re.compile(r"^[^\s+]+$")


class NoteError(ValueError):
    """Malformed note, checkpoint, key or signature."""


@dataclass(frozen=True)
class Verifier:
    """A (name, public key, signature type) tuple: the log's key or a witness's key."""

    name: str
    public_key: bytes
    kind: int = SIG_ED25519

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, self.public_key)

    @property
    def vkey(self) -> str:
        return vkey(self.name, self.kind, self.public_key)


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    blob: bytes  # what follows the key ID
    line: str  # the whole line without its newline


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str  # the note text: origin, size, root (and extension lines), with the final newline


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + public_key).digest()[:4]


def vkey(name: str, kind: int, public_key: bytes) -> str:
    if not _NAME.match(name):
        raise NoteError(f"key name {name!r} must be non-empty without spaces or '+'")
    encoded = base64.b64encode(bytes([kind]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, kind, public_key).hex()}+{encoded}"


def parse_vkey(text: str) -> Verifier:
    """A verifier key of type 0x01 (log) or 0x04 (cosigner), checked against its key ID."""
    try:
        name, hash_hex, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError(f"malformed verifier key: {exc}") from exc
    if not re.fullmatch(r"[0-9a-f]{8}", hash_hex) or not _NAME.match(name):
        raise NoteError("malformed verifier key: bad name or key ID")
    if len(raw) != 33 or raw[0] not in (SIG_ED25519, SIG_COSIGNATURE_V1):
        raise NoteError("malformed verifier key: not an Ed25519 (0x01) or cosignature/v1 (0x04) key")
    verifier = Verifier(name, raw[1:], raw[0])
    if verifier.key_id.hex() != hash_hex:
        raise NoteError("malformed verifier key: key ID does not match name and key")
    return verifier


def split_note(note: str) -> tuple[str, list[Signature]]:
    """(text with its final newline, signature lines) of a signed note."""
    text, sep, block = note.rpartition("\n\n")
    if not sep or not text or not block.endswith("\n"):
        raise NoteError("malformed signed note: no blank line before the signatures")
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX):].rpartition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError(f"malformed signature line {line!r}") from exc
        if not name or len(blob) < 5:
            raise NoteError(f"malformed signature line {line!r}")
        signatures.append(Signature(name, blob[:4], blob[4:], line))
    return text + "\n", signatures


def parse_checkpoint(text: str) -> Checkpoint:
    """A tlog-checkpoint body: origin, decimal size without leading zeros, base64 root, then
    optional extension lines; every line ends with a newline."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint has an origin, a size and a root line")
    origin, size_line, root_line = lines[:3]
    if not size_line.isdigit() or not size_line.isascii() or (size_line != "0" and size_line[0] == "0"):
        raise NoteError("malformed checkpoint tree size")
    try:
        root = base64.b64decode(root_line, validate=True)
    except binascii.Error as exc:
        raise NoteError("malformed checkpoint root hash") from exc
    if len(root) != HASH_SIZE:
        raise NoteError("checkpoint root is not a 32-byte hash")
    return Checkpoint(origin, int(size_line), root, text)


def verify_signed_by(text: str, signatures: list[Signature], verifier: Verifier) -> bool:
    """True if a signature line by `verifier` (a log key, type 0x01) verifies over `text`.
    Lines by other keys are ignored; a line with this key's name and ID that does not verify
    counts as no signature."""
    public = Ed25519PublicKey.from_public_bytes(verifier.public_key)
    for sig in signatures:
        if sig.name == verifier.name and sig.key_id == verifier.key_id and len(sig.blob) == 64:
            try:
                public.verify(sig.blob, text.encode("utf-8"))
                return True
            except InvalidSignature:
                continue
    return False


# --- tlog-cosignature/v1 ----------------------------------------------------------------------

def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode("ascii") + body.encode("utf-8")


def cosign(body: str, *, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """The cosignature line (with its newline) of a checkpoint body."""
    if not 0 <= timestamp < 2**63:
        raise NoteError("cosignature timestamp out of range")
    public = key.public_key().public_bytes_raw()
    blob = (key_id(name, SIG_COSIGNATURE_V1, public) + struct.pack(">Q", timestamp)
            + key.sign(cosigned_message(body, timestamp)))
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def cosignature_time(body: str, signatures: list[Signature], witness: Verifier) -> int | None:
    """The timestamp of a valid cosignature by `witness` over `body`, or None."""
    public = Ed25519PublicKey.from_public_bytes(witness.public_key)
    for sig in signatures:
        if sig.name != witness.name or sig.key_id != witness.key_id or len(sig.blob) != 72:
            continue
        (timestamp,) = struct.unpack(">Q", sig.blob[:8])
        if timestamp >= 2**63:
            continue
        try:
            public.verify(sig.blob[8:], cosigned_message(body, timestamp))
        except InvalidSignature:
            continue
        return timestamp
    return None
