"""Secrets of the expert app: ID number hashes, sealed identities, the sealed draw seed, HMAC keys.

Keys are derived from `settings.SECRET_KEY` unless a dedicated setting is given
(`EXPERTS_ID_HASH_KEY`, `EXPERTS_SEED_KEY`, `EXPERTS_GATEWAY_SECRET`; production sets them so that a
SECRET_KEY rotation does not break stored hashes or sealed seeds). See docs/experts.md, "Threat model".
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _key(setting: str, purpose: str) -> bytes:
    explicit = getattr(settings, setting, None) or os.environ.get(setting, "")
    material = explicit or settings.SECRET_KEY
    return hmac.new(material.encode(), f"ptrade.experts.{purpose}".encode(), hashlib.sha256).digest()


def id_number_problem(value: str) -> str | None:
    """None if `value` is a valid 18-character resident ID number (GB 11643-1999 check digit)."""
    value = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return "an ID number has 17 digits and a check character"
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        return "wrong check character"
    return None


def id_number_with_check(body17: str) -> str:
    total = sum(int(d) * w for d, w in zip(body17, _ID_WEIGHTS, strict=True))
    return body17 + _ID_CHECK[total % 11]


def id_number_hash(value: str) -> str:
    """Keyed hash (HMAC-SHA256) of a normalized ID number: the ID number space is small enough to
    brute-force a plain hash, so the key stays on the server."""
    return hmac.new(_key("EXPERTS_ID_HASH_KEY", "id-number"), value.strip().upper().encode(),
                    hashlib.sha256).hexdigest()


def phone_hash(value: str) -> str:
    return hmac.new(_key("EXPERTS_ID_HASH_KEY", "phone"), normalize_phone(value).encode(), hashlib.sha256).hexdigest()


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[^\d]", "", value or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def new_salt() -> str:
    return secrets.token_hex(32)


def expert_identity_hash(salt: str, expert_id: int) -> str:
    """What stands for an expert in audit events while the panel is sealed:
    hex SHA-256 of "expert:<id>:<draw identity salt>"; the salt is published by the reveal event."""
    return hashlib.sha256(f"expert:{expert_id}:{salt}".encode()).hexdigest()


def seed_seal(seed: bytes, draw_id: int) -> bytes:
    """AES-256-GCM of the seed (nonce || ciphertext+tag), the draw id as associated data."""
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(_key("EXPERTS_SEED_KEY", "seed")).encrypt(nonce, seed, f"draw:{draw_id}".encode())


def seed_unseal(sealed: bytes, draw_id: int) -> bytes:
    sealed = bytes(sealed)
    return AESGCM(_key("EXPERTS_SEED_KEY", "seed")).decrypt(sealed[:12], sealed[12:], f"draw:{draw_id}".encode())


def gateway_secret() -> bytes:
    """HMAC key shared with the SMS/voice gateway: `EXPERTS_GATEWAY_SECRET` as given (the gateway is
    configured with the same string), or one derived from SECRET_KEY for local runs and the simulator."""
    explicit = getattr(settings, "EXPERTS_GATEWAY_SECRET", None) or os.environ.get("EXPERTS_GATEWAY_SECRET", "")
    return explicit.encode() if explicit else _key("EXPERTS_GATEWAY_SECRET", "gateway")
