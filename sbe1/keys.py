"""P-256 keys: generation, SPKI export, key ids and the password-protected key file.

One key pair serves both ECDH (unwrapping DEKs and Shamir shares addressed to it) and
ECDSA (signing envelopes), as SPECS.md §1 registers one P-256 public key per
organisation "for encryption and signing". WebCrypto binds an imported key to one
algorithm, so the browser module keeps the PKCS#8 bytes and imports them twice.

Key file (JSON, UTF-8; written canonically plus a final newline, read leniently)::

    {"v":1, "kind":"ptrade-keyfile", "kdf":"PBKDF2-SHA256", "iterations":600000,
     "salt":"<b64, 16 bytes>", "nonce":"<b64, 12 bytes>", "alg":"A256GCM",
     "ciphertext":"<b64 AES-256-GCM(key, pkcs8 DER) with its 16-byte tag>",
     "public_spki":"<b64 SPKI DER>", "key_id":"<hex>", "label":"<free text>"}

key = PBKDF2-HMAC-SHA256(NFC-normalized password as UTF-8, salt, iterations, 32 bytes);
AES-GCM AAD = the ASCII key_id. After decryption the private key's public key must equal
``public_spki`` and its SHA-256 must equal ``key_id``.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .canonical import canonical_bytes, loads_strict
from .encoding import b64d, b64e, is_hex64
from .errors import FormatError, InvalidKeyError, KeyFileError

CURVE = ec.SECP256R1()
SPKI_LENGTH = 91  # uncompressed P-256 SubjectPublicKeyInfo, as WebCrypto exports it
KEYFILE_KIND = "ptrade-keyfile"
DEFAULT_ITERATIONS = 600_000
MIN_ITERATIONS = 100_000
MAX_ITERATIONS = 10_000_000
_KEYFILE_FIELDS = {"v", "kind", "kdf", "iterations", "salt", "nonce", "alg", "ciphertext",
                   "public_spki", "key_id", "label"}

PublicKeyLike = ec.EllipticCurvePublicKey | bytes | str


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVE)


def spki_der(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> bytes:
    """SubjectPublicKeyInfo DER (uncompressed point) of a public key or a private key's public key."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_b64(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> str:
    return b64e(spki_der(key))


def key_id(key: PublicKeyLike | ec.EllipticCurvePrivateKey) -> str:
    """Lowercase hex SHA-256 of the SPKI DER bytes (SPECS.md §1)."""
    if isinstance(key, str):
        key = load_public_key(key)
    der = key if isinstance(key, bytes) else spki_der(key)
    return hashlib.sha256(der).hexdigest()


def load_public_key(spki: PublicKeyLike) -> ec.EllipticCurvePublicKey:
    """Load a P-256 public key from SPKI DER bytes or their base64; anything else is refused.

    Only the uncompressed encoding is accepted (the one WebCrypto and ``spki_der`` produce),
    so a key has exactly one SPKI and one key_id.
    """
    if isinstance(spki, ec.EllipticCurvePublicKey):
        _check_curve(spki)
        return spki
    der = b64d(spki, what="public key") if isinstance(spki, str) else bytes(spki)
    try:
        key = serialization.load_der_public_key(der)
    except ValueError as exc:
        raise InvalidKeyError("not a valid SubjectPublicKeyInfo public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InvalidKeyError("public key is not an elliptic-curve key")
    _check_curve(key)
    if spki_der(key) != der:
        raise InvalidKeyError("public key must be an uncompressed P-256 SPKI in DER")
    return key


def private_key_pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_key_pkcs8(der: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidKeyError("not a valid unencrypted PKCS#8 private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidKeyError("private key is not an elliptic-curve key")
    _check_curve(key)
    return key


def _check_curve(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> None:
    if key.curve.name != CURVE.name:
        raise InvalidKeyError(f"key is on {key.curve.name}, not P-256")


# --- Key file ---------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyFile:
    """A decrypted key file. ``private_key`` must never be logged or sent anywhere."""

    private_key: ec.EllipticCurvePrivateKey
    public_spki: bytes
    key_id: str
    label: str


@dataclass(frozen=True)
class KeyFileInfo:
    """The public part of a key file, readable without the password."""

    public_spki: bytes
    key_id: str
    label: str
    iterations: int


def _password_key(password: str, salt: bytes, iterations: int) -> bytes:
    if not isinstance(password, str) or password == "":
        raise KeyFileError("a non-empty password is required", "keyfile_password")
    normalized = unicodedata.normalize("NFC", password).encode("utf-8")
    return PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(normalized)


def write_key_file(private_key: ec.EllipticCurvePrivateKey, password: str, *, label: str = "",
                   iterations: int = DEFAULT_ITERATIONS) -> bytes:
    """Serialize ``private_key`` encrypted under ``password`` (UTF-8 JSON bytes)."""
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise KeyFileError(f"iterations must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}")
    if not isinstance(label, str):
        raise KeyFileError("label must be a string")
    _check_curve(private_key)
    salt, nonce = os.urandom(16), os.urandom(12)
    kid = key_id(private_key.public_key())
    ciphertext = AESGCM(_password_key(password, salt, iterations)).encrypt(
        nonce, private_key_pkcs8(private_key), kid.encode("ascii"))
    doc = {"v": 1, "kind": KEYFILE_KIND, "kdf": "PBKDF2-SHA256", "iterations": iterations,
           "salt": b64e(salt), "nonce": b64e(nonce), "alg": "A256GCM", "ciphertext": b64e(ciphertext),
           "public_spki": spki_b64(private_key), "key_id": kid, "label": label}
    return canonical_bytes(doc) + b"\n"


def _parse_key_file(data: bytes | str) -> dict[str, Any]:
    try:
        doc = loads_strict(data)
    except FormatError as exc:
        raise KeyFileError(f"key file is not valid JSON: {exc.args[0]}") from exc
    if not isinstance(doc, dict) or doc.get("kind") != KEYFILE_KIND:
        raise KeyFileError("not a ptrade key file")
    if set(doc) != _KEYFILE_FIELDS:
        raise KeyFileError(f"key file fields must be exactly {sorted(_KEYFILE_FIELDS)}")
    if doc["v"] != 1 or isinstance(doc["v"], bool):
        raise KeyFileError(f"unsupported key file version {doc['v']!r}", "keyfile_version")
    if doc["kdf"] != "PBKDF2-SHA256" or doc["alg"] != "A256GCM":
        raise KeyFileError("unsupported key file kdf/alg", "keyfile_version")
    iterations = doc["iterations"]
    if not isinstance(iterations, int) or isinstance(iterations, bool) \
            or not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise KeyFileError(f"iterations must be an integer between {MIN_ITERATIONS} and {MAX_ITERATIONS}")
    if not is_hex64(doc["key_id"]) or not isinstance(doc["label"], str):
        raise KeyFileError("key file key_id/label malformed")
    try:
        doc["salt"] = b64d(doc["salt"], length=16, what="salt")
        doc["nonce"] = b64d(doc["nonce"], length=12, what="nonce")
        doc["ciphertext"] = b64d(doc["ciphertext"], what="ciphertext")
        doc["public_spki"] = b64d(doc["public_spki"], what="public_spki")
        load_public_key(doc["public_spki"])
    except (FormatError, InvalidKeyError) as exc:
        raise KeyFileError(f"key file field malformed: {exc.args[0]}") from exc
    if key_id(doc["public_spki"]) != doc["key_id"]:
        raise KeyFileError("key file key_id does not match its public key")
    return doc


def key_file_info(data: bytes | str) -> KeyFileInfo:
    """Public key, key id and label of a key file, without the password."""
    doc = _parse_key_file(data)
    return KeyFileInfo(doc["public_spki"], doc["key_id"], doc["label"], doc["iterations"])


def read_key_file(data: bytes | str, password: str) -> KeyFile:
    """Decrypt a key file. A wrong password raises KeyFileError(code="keyfile_password")."""
    doc = _parse_key_file(data)
    key = _password_key(password, doc["salt"], doc["iterations"])
    try:
        pkcs8 = AESGCM(key).decrypt(doc["nonce"], doc["ciphertext"], doc["key_id"].encode("ascii"))
    except InvalidTag as exc:
        raise KeyFileError("wrong password or corrupted key file", "keyfile_password") from exc
    try:
        private_key = load_private_key_pkcs8(pkcs8)
    except InvalidKeyError as exc:
        raise KeyFileError(f"key file holds no usable key: {exc.args[0]}") from exc
    if spki_der(private_key) != doc["public_spki"]:
        raise KeyFileError("key file private key does not match its public key")
    return KeyFile(private_key, doc["public_spki"], doc["key_id"], doc["label"])
