"""The platform's Ed25519 signing key, signed receipts and C2SP signed notes.

The key lives in a PEM file (settings.PLATFORM_SIGNING_KEY_FILE, mode 0600), created on
first use. It signs audit checkpoints (as C2SP signed notes) and receipts that other
modules hand out (bids, deposits, notices). Only the public key ever leaves this module:
never log, print or serialize the private key.

Receipts: the signature is Ed25519 over the canonical JSON bytes (audit.canonical) of the
receipt payload; `key_id` is the lowercase hex SHA-256 of the public key's
SubjectPublicKeyInfo DER (the same rule as SPECS.md §1 uses for P-256 keys).

Signed notes (https://c2sp.org/signed-note): text, a blank line, then signature lines
"— <name> <base64(4-byte key hash || 64-byte signature)>". The key hash is the first
4 bytes of SHA-256(name || "\\n" || 0x01 || 32-byte public key); the verifier key string
is "<name>+<hex key hash>+<base64(0x01 || public key)>".
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from audit.canonical import canonical_bytes, normalize
from witness.notes import NoteError, split_note  # one parser of C2SP signed notes (docs/witness.md)

logger = logging.getLogger(__name__)

ED25519_ALG = 0x01
SIGNATURE_PREFIX = "— "  # em dash, space
_KEY_NAME = re.compile(r"^[^\s+]+$")


# --- The platform key ------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _load_or_create(path: str) -> Ed25519PrivateKey:
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            try:
                os.link(tmp, file)  # atomic; another process may have won the race
                logger.warning("created the platform signing key at %s", file)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    if file.stat().st_mode & 0o077:
        logger.warning("platform signing key %s is readable by group or others; chmod 600 it", file)
    key = serialization.load_pem_private_key(file.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"{file} does not hold an Ed25519 private key")
    return key


def _platform_key() -> Ed25519PrivateKey:
    return _load_or_create(str(settings.PLATFORM_SIGNING_KEY_FILE))


def platform_sign(data: bytes) -> bytes:
    """Ed25519 signature (64 bytes) of `data` by the platform key."""
    return _platform_key().sign(data)


def platform_public_key() -> bytes:
    """The raw 32-byte Ed25519 public key."""
    return _platform_key().public_key().public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw)


def platform_public_key_b64() -> str:
    return base64.b64encode(platform_public_key()).decode("ascii")


def platform_public_key_pem() -> str:
    return _platform_key().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def key_id(public_key: bytes) -> str:
    """Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER of a raw Ed25519 public key."""
    spki = Ed25519PublicKey.from_public_bytes(public_key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def platform_key_id() -> str:
    return key_id(platform_public_key())


def note_key_name() -> str:
    """Checkpoints are signed under the log's origin (SPECS.md §2)."""
    return str(settings.AUDIT_LOG_ORIGIN)


def platform_verifier_key() -> str:
    return verifier_key(note_key_name(), platform_public_key())


# --- Receipts ------------------------------------------------------------------------

def sign_receipt(payload: dict[str, Any]) -> dict[str, Any]:
    """{"receipt": payload (canonical JSON data), "signature": base64, "key_id": hex}."""
    receipt = normalize(payload)
    if not isinstance(receipt, dict):
        raise TypeError("a receipt is a JSON object")
    signature = platform_sign(canonical_bytes(receipt))
    return {"receipt": receipt, "signature": base64.b64encode(signature).decode("ascii"),
            "key_id": platform_key_id()}


def verify_receipt(signed: dict[str, Any], *, public_key: bytes | None = None) -> bool:
    """True if `signed` (as made by sign_receipt) carries a valid signature by `public_key`
    (default: the platform's) and names that key."""
    public_key = platform_public_key() if public_key is None else public_key
    try:
        if signed.get("key_id") != key_id(public_key):
            return False
        signature = base64.b64decode(signed["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, canonical_bytes(signed["receipt"]))
    except (KeyError, TypeError, ValueError, binascii.Error, InvalidSignature):
        return False
    return True


# --- C2SP signed notes ----------------------------------------------------------------

def note_key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519_ALG]) + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    if not _KEY_NAME.match(name):
        raise ValueError(f"key name {name!r} must be non-empty without spaces or '+'")
    encoded = base64.b64encode(bytes([ED25519_ALG]) + public_key).decode("ascii")
    return f"{name}+{note_key_hash(name, public_key).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes]:
    """(name, raw public key) of a "<name>+<hex key hash>+<base64(0x01 || key)>" string."""
    try:
        name, hash_hex, encoded = vkey.strip().split("+", 2)  # base64 may hold "+" too
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError(f"malformed verifier key: {exc}") from exc
    if not re.fullmatch(r"[0-9a-f]{8}", hash_hex):
        raise NoteError("malformed verifier key: the key hash is not 8 lowercase hex digits")
    key_hash = bytes.fromhex(hash_hex)
    if not _KEY_NAME.match(name) or len(raw) != 33 or raw[0] != ED25519_ALG:
        raise NoteError("malformed verifier key: not an Ed25519 key with a valid name")
    if note_key_hash(name, raw[1:]) != key_hash:
        raise NoteError("malformed verifier key: key hash does not match name and key")
    return name, raw[1:]


def note_sign(text: str, *, name: str, sign: Any, public_key: bytes) -> str:
    """The signed note of `text` (which must end with a newline) with one signature line;
    `sign(bytes) -> 64-byte signature`."""
    if not text.endswith("\n") or "\n\n" in text:
        raise ValueError("note text must end with a newline and contain no blank line")
    blob = note_key_hash(name, public_key) + sign(text.encode("utf-8"))
    return f"{text}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def platform_note_sign(text: str) -> str:
    return note_sign(text, name=note_key_name(), sign=platform_sign, public_key=platform_public_key())


def note_open(note: str, *, name: str, public_key: bytes) -> str:
    """The text of `note` if one of its signatures is a valid one by (name, public_key);
    raise NoteError otherwise."""
    text, signatures = split_note(note)
    wanted = note_key_hash(name, public_key)
    for signature in signatures:
        if signature.name != name or signature.key_id != wanted:
            continue  # a signature by some other key (a witness, say): not ours to check
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature.blob, text.encode("utf-8"))
        except InvalidSignature as exc:
            raise NoteError(f"signature by {name} does not verify") from exc
        return text
    raise NoteError(f"note carries no signature by key {name}+{wanted.hex()}")
