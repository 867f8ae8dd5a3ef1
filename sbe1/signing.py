"""Detached envelope signatures (SPECS.md §1).

The signed message is the 32-byte SHA-256 digest of the complete envelope bytes.
ECDSA P-256 with SHA-256 is applied to that message as to any other, so the value that
enters the ECDSA equation is SHA-256(SHA-256(envelope)) -- exactly what WebCrypto's
``sign({name: "ECDSA", hash: "SHA-256"}, key, digest)`` computes when given the digest.
The signature is the 64-byte r || s form (each a 32-byte big-endian integer), base64.
Verification accepts any valid (r, s), high or low s, as WebCrypto does; a signature is
therefore not a unique identifier of an envelope (use the envelope SHA-256 for that).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .encoding import b64d, b64e
from .errors import FormatError, SignatureError
from .keys import PublicKeyLike, load_public_key

SIGNATURE_SIZE = 64
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_READ_SIZE = 1_048_576


def envelope_sha256(envelope: bytes | BinaryIO | Iterable[bytes]) -> bytes:
    """SHA-256 of the envelope bytes (bytes, a binary file read to its end, or byte chunks)."""
    h = hashlib.sha256()
    if isinstance(envelope, (bytes, bytearray, memoryview)):
        h.update(envelope)
    elif hasattr(envelope, "read"):
        while block := envelope.read(_READ_SIZE):
            h.update(block)
    else:
        for block in envelope:
            h.update(block)
    return h.digest()


def der_to_raw(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def raw_to_der(raw: bytes) -> bytes:
    if len(raw) != SIGNATURE_SIZE:
        raise SignatureError(f"a P-256 signature is {SIGNATURE_SIZE} bytes (r || s)", "bad_signature_format")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if not (0 < r < _ORDER and 0 < s < _ORDER):
        raise SignatureError("signature r or s out of range", "bad_signature_format")
    return encode_dss_signature(r, s)


def sign_digest(private_key: ec.EllipticCurvePrivateKey, digest: bytes) -> str:
    """Base64 r||s signature over the 32-byte envelope ``digest`` (see module docstring)."""
    if len(digest) != 32:
        raise ValueError("the signed message is the 32-byte SHA-256 of the envelope")
    return b64e(der_to_raw(private_key.sign(digest, ec.ECDSA(hashes.SHA256()))))


def sign_envelope(private_key: ec.EllipticCurvePrivateKey, envelope: bytes | BinaryIO | Iterable[bytes]) -> str:
    return sign_digest(private_key, envelope_sha256(envelope))


def verify_digest(public_key: PublicKeyLike, digest: bytes, signature: str) -> None:
    """Raise SignatureError unless ``signature`` (base64 r||s) is valid for ``digest``."""
    try:
        raw = b64d(signature, length=SIGNATURE_SIZE, what="signature")
    except FormatError as exc:
        raise SignatureError(exc.args[0], "bad_signature_format") from exc
    try:
        load_public_key(public_key).verify(raw_to_der(raw), digest, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise SignatureError("envelope signature does not verify with the bidder's key") from exc


def verify_envelope(public_key: PublicKeyLike, envelope: bytes | BinaryIO | Iterable[bytes],
                    signature: str) -> bytes:
    """Verify the detached signature of ``envelope``; returns the envelope SHA-256."""
    digest = envelope_sha256(envelope)
    verify_digest(public_key, digest, signature)
    return digest
