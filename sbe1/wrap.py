"""Key wrapping to a P-256 recipient (SPECS.md §1), used for DEKs and Shamir shares.

    ephemeral key pair (P-256), fresh per wrap
    ikm  = ECDH(ephemeral private, recipient public): the 32-byte x-coordinate
    kek  = HKDF-SHA256(ikm, salt = epk SPKI DER || recipient SPKI DER, info = "SBE1 wrap", 32)
    wrapped = AES-256-GCM(kek, nonce = 12 random bytes, plaintext, AAD = ASCII key_id)
              (ciphertext || 16-byte tag)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import DecryptionError
from .keys import CURVE, PublicKeyLike, key_id, load_public_key, spki_der

WRAP_INFO = b"SBE1 wrap"


@dataclass(frozen=True)
class Wrapped:
    epk: bytes  # SPKI DER of the ephemeral public key
    nonce: bytes  # 12 bytes
    wrapped: bytes  # ciphertext || tag


def derive_kek(shared_x: bytes, epk_spki: bytes, recipient_spki: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, epk_spki + recipient_spki, WRAP_INFO).derive(shared_x)


def wrap_key(secret: bytes, recipient: PublicKeyLike) -> Wrapped:
    """Encrypt ``secret`` to ``recipient``; the AAD is the recipient's key_id."""
    public = load_public_key(recipient)
    recipient_spki = spki_der(public)
    ephemeral = ec.generate_private_key(CURVE)
    epk = spki_der(ephemeral)
    kek = derive_kek(ephemeral.exchange(ec.ECDH(), public), epk, recipient_spki)
    nonce = os.urandom(12)
    aad = key_id(recipient_spki).encode("ascii")
    return Wrapped(epk, nonce, AESGCM(kek).encrypt(nonce, secret, aad))


def unwrap_key(private_key: ec.EllipticCurvePrivateKey, epk: bytes, nonce: bytes, wrapped: bytes,
               *, aad_key_id: str | None = None) -> bytes:
    """Decrypt a wrapped secret with the recipient's private key.

    ``aad_key_id`` defaults to the key id of ``private_key`` (what the sender used); it is
    a parameter so tests can show that a different AAD is rejected.
    """
    recipient_spki = spki_der(private_key)
    peer = load_public_key(epk)
    kek = derive_kek(private_key.exchange(ec.ECDH(), peer), epk, recipient_spki)
    aad = (aad_key_id or key_id(recipient_spki)).encode("ascii")
    try:
        return AESGCM(kek).decrypt(nonce, wrapped, aad)
    except InvalidTag as exc:
        raise DecryptionError("key unwrapping failed (wrong key or tampered entry)", "unwrap_failed") from exc
