"""The sealed reserve price (底价): sealed by the transferor, opened only after the trade ends.

Format (docs/auctions.md, "Sealed reserve"), built on SBE1's key wrapping (SPECS.md §1):

    plaintext = canonical JSON {"v":1,"trade":"<trade public id>","reserve":"<decimal, 2 places>",
                                "nonce":"<base64, 16 random bytes>"}, right-padded with spaces to 256 bytes
    sealed    = {"v":1,"key_id":"<the trade's opening key id>","epk":"<b64 SPKI>",
                 "nonce":"<b64 12 bytes>","wrapped":"<b64 AES-256-GCM(kek, plaintext) || tag>"}

kek as in SBE1 (ECDH with a fresh ephemeral P-256 key, HKDF-SHA256 info "SBE1 wrap", AAD the
ASCII key id). The padding hides the number of digits; the random nonce makes the
`sealed_sha256` commitment (canonical JSON of `sealed`, SHA-256, written to the audit chain when
the reserve is sealed) reveal nothing; the trade id inside binds the reserve to its trade.

The opening key's private half exists only as Shamir shares encrypted to key custodians
(sbe1.create_opening_key); the platform never holds it. After the trade ends, k custodians
release their shares, the server rebuilds the key, checks the stored `sealed` still hashes to
the audited commitment, and unwraps. Pure module: no Django, usable by clients.
"""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from sbe1.canonical import canonical_bytes
from sbe1.encoding import b64d, b64e
from sbe1.keys import SPKI_LENGTH, PublicKeyLike, key_id, load_public_key
from sbe1.wrap import unwrap_key, wrap_key

PLAINTEXT_SIZE = 256
FIELDS = {"v", "key_id", "epk", "nonce", "wrapped"}


class ReserveError(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _amount(value: Decimal | str) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ReserveError("the reserve must be a decimal amount", "reserve_invalid") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ReserveError("the reserve is a positive amount with at most 2 decimals", "reserve_invalid")
    return str(amount.quantize(Decimal("0.01")))


def seal_reserve(*, reserve: Decimal | str, trade: str, opening_key: PublicKeyLike) -> dict[str, Any]:
    """Seal `reserve` for trade `trade` to the trade's opening public key (client side)."""
    doc = canonical_bytes({"v": 1, "trade": trade, "reserve": _amount(reserve), "nonce": b64e(os.urandom(16))})
    plaintext = doc.ljust(PLAINTEXT_SIZE, b" ")
    public = load_public_key(opening_key)
    w = wrap_key(plaintext, public)
    return {"v": 1, "key_id": key_id(public), "epk": b64e(w.epk), "nonce": b64e(w.nonce), "wrapped": b64e(w.wrapped)}


def check_sealed(sealed: Any, *, opening_key_id: str) -> dict[str, Any]:
    """Shape checks the server can make without opening anything."""
    if not isinstance(sealed, dict) or set(sealed) != FIELDS or sealed.get("v") != 1:
        raise ReserveError(f"a sealed reserve has exactly the fields {sorted(FIELDS)} and v 1", "reserve_format")
    if sealed["key_id"] != opening_key_id:
        raise ReserveError("the reserve is sealed to another key than this trade's opening key", "reserve_key")
    try:
        load_public_key(b64d(sealed["epk"], length=SPKI_LENGTH, what="epk"))
        b64d(sealed["nonce"], length=12, what="nonce")
        b64d(sealed["wrapped"], length=PLAINTEXT_SIZE + 16, what="wrapped")
    except Exception as exc:  # sbe1 errors and malformed base64 alike
        raise ReserveError(f"malformed sealed reserve: {exc}", "reserve_format") from None
    return {k: sealed[k] for k in sorted(FIELDS)}


def sealed_sha256(sealed: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(sealed)).hexdigest()


def open_reserve(sealed: dict[str, Any], *, private_key: ec.EllipticCurvePrivateKey, trade: str) -> Decimal:
    """Unwrap with the rebuilt opening private key; check the trade binding."""
    plaintext = unwrap_key(private_key, b64d(sealed["epk"], length=SPKI_LENGTH, what="epk"),
                           b64d(sealed["nonce"], length=12, what="nonce"),
                           b64d(sealed["wrapped"], length=PLAINTEXT_SIZE + 16, what="wrapped"),
                           aad_key_id=sealed["key_id"])
    try:
        doc = json.loads(plaintext.rstrip(b" ").decode("utf-8"))
    except ValueError:
        raise ReserveError("the sealed reserve does not hold a reserve document", "reserve_format") from None
    if not isinstance(doc, dict) or doc.get("v") != 1 or doc.get("trade") != trade:
        raise ReserveError("the sealed reserve belongs to another trade", "reserve_trade")
    return Decimal(_amount(doc.get("reserve", "")))
