"""Shamir k-of-n sharing of a lot's opening private key (SPECS.md §1).

Field: integers modulo the order n of the P-256 group (a prime), so the shared secret is
the private scalar d itself (1 <= d < n) and a reconstructed value is directly a scalar.
f(x) = d + a1 x + ... + a(k-1) x^(k-1) mod n with a_i uniform in [0, n); share i is
(x = i, y = f(i)) for i = 1..count. Any k shares give d by Lagrange interpolation at 0;
k-1 shares are consistent with every possible d (they reveal nothing about it).

Share at rest -- encrypted to a custodian with the SBE1 key wrapping (``wrap.py``: info
"SBE1 wrap", AAD = the custodian's ASCII key_id; the wrapped plaintext is y as 32 bytes
big-endian), stored as canonical JSON::

    {"v":1,"x":1,"k":2,"opening_key_id":"<hex>","key_id":"<custodian hex>",
     "epk":"<b64 SPKI>","nonce":"<b64 12 bytes>","wrapped":"<b64 48 bytes>"}

Share released by a custodian at opening (after decrypting it locally)::

    {"v":1,"x":1,"k":2,"opening_key_id":"<hex>","y":"<b64 32 bytes>"}

x, k and opening_key_id are not authenticated by the wrapping; a tampered value yields a
wrong key, which ``combine_private_key`` detects by comparing with the opening key id.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .canonical import canonical_bytes, loads_strict
from .encoding import b64d, b64e, is_hex64
from .errors import DecryptionError, FormatError, ShamirError
from .keys import CURVE, SPKI_LENGTH, PublicKeyLike, generate_private_key, key_id, load_public_key, spki_der
from .wrap import unwrap_key, wrap_key

ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256 group order n
MAX_SHARES = 255
_ENCRYPTED_FIELDS = {"v", "x", "k", "opening_key_id", "key_id", "epk", "nonce", "wrapped"}
_PLAIN_FIELDS = {"v", "x", "k", "opening_key_id", "y"}


@dataclass(frozen=True)
class Share:
    x: int
    y: int


@dataclass(frozen=True)
class ReleasedShare:
    """A decrypted share with the metadata needed to use it."""

    share: Share
    threshold: int
    opening_key_id: str

    def to_json_bytes(self) -> bytes:
        return canonical_bytes({"v": 1, "x": self.share.x, "k": self.threshold,
                                "opening_key_id": self.opening_key_id, "y": b64e(_y_bytes(self.share.y))})


def _check_params(threshold: int, count: int) -> None:
    if not (isinstance(threshold, int) and isinstance(count, int)) or not 2 <= threshold <= count <= MAX_SHARES:
        raise ShamirError(f"need 2 <= k <= n <= {MAX_SHARES} (got k={threshold}, n={count})", "shamir_params")


def split_secret(secret: int, threshold: int, count: int) -> list[Share]:
    """Split ``secret`` (1 <= secret < ORDER) into ``count`` shares, any ``threshold`` of which recover it."""
    _check_params(threshold, count)
    if not 0 < secret < ORDER:
        raise ShamirError("secret must be in 1..n-1", "shamir_params")
    coefficients = [secret] + [secrets.randbelow(ORDER) for _ in range(threshold - 1)]
    shares = []
    for x in range(1, count + 1):
        y = 0
        for c in reversed(coefficients):  # Horner
            y = (y * x + c) % ORDER
        shares.append(Share(x, y))
    return shares


def combine_shares(shares: Sequence[Share], threshold: int | None = None) -> int:
    """Lagrange interpolation at 0. With ``threshold``, fewer shares raise ShamirError.

    Without it nothing can tell too few shares from enough: the result is then just some
    field element; ``combine_private_key`` checks it against the opening key.
    """
    if threshold is not None and len(shares) < threshold:
        raise ShamirError(f"{len(shares)} share(s) given, {threshold} needed", "shamir_too_few")
    if not shares:
        raise ShamirError("no shares given", "shamir_too_few")
    xs = [s.x for s in shares]
    if len(set(xs)) != len(xs):
        raise ShamirError("duplicate share x", "shamir_duplicate")
    for s in shares:
        if not (isinstance(s.x, int) and 1 <= s.x <= MAX_SHARES and isinstance(s.y, int) and 0 <= s.y < ORDER):
            raise ShamirError(f"share x={s.x!r} out of range", "shamir_bad_share")
    secret = 0
    for i, si in enumerate(shares):
        num, den = 1, 1
        for j, sj in enumerate(shares):
            if i != j:
                num = num * sj.x % ORDER
                den = den * (sj.x - si.x) % ORDER
        secret = (secret + si.y * num * pow(den, -1, ORDER)) % ORDER
    return secret


def split_private_key(private_key: ec.EllipticCurvePrivateKey, threshold: int = 2, count: int = 3) -> list[Share]:
    return split_secret(private_key.private_numbers().private_value, threshold, count)


def combine_private_key(shares: Sequence[Share], *, opening_key_id: str,
                        threshold: int | None = None) -> ec.EllipticCurvePrivateKey:
    """Rebuild the opening private key; raise ShamirError unless it matches ``opening_key_id``."""
    scalar = combine_shares(shares, threshold)
    if scalar == 0:
        raise ShamirError("shares combine to zero: wrong or too few shares", "shamir_wrong_key")
    key = ec.derive_private_key(scalar, CURVE)
    if key_id(key.public_key()) != opening_key_id:
        raise ShamirError("reconstructed key does not match the opening key (too few, wrong or tampered "
                          "shares)", "shamir_wrong_key")
    return key


def _y_bytes(y: int) -> bytes:
    return y.to_bytes(32, "big")


def _check_meta(doc: dict[str, Any]) -> tuple[int, int, str]:
    if doc["v"] != 1 or isinstance(doc["v"], bool):
        raise FormatError(f"unsupported share version {doc['v']!r}", "share_invalid")
    x, k, okid = doc["x"], doc["k"], doc["opening_key_id"]
    if not (isinstance(x, int) and isinstance(k, int)) or isinstance(x, bool) or isinstance(k, bool) \
            or not 1 <= x <= MAX_SHARES or not 2 <= k <= MAX_SHARES or not is_hex64(okid):
        raise FormatError("share x, k or opening_key_id malformed", "share_invalid")
    return x, k, okid


def _load_doc(data: dict[str, Any] | bytes | str, fields: set[str]) -> dict[str, Any]:
    doc = data if isinstance(data, dict) else loads_strict(data)
    if not isinstance(doc, dict) or set(doc) != fields:
        raise FormatError(f"a share must have exactly the fields {sorted(fields)}", "share_invalid")
    return doc


def encrypt_share(share: Share, custodian_key: PublicKeyLike, *, threshold: int,
                  opening_key_id: str) -> dict[str, Any]:
    """The share container (a JSON-ready dict) for one custodian."""
    public = load_public_key(custodian_key)
    w = wrap_key(_y_bytes(share.y), public)
    return {"v": 1, "x": share.x, "k": threshold, "opening_key_id": opening_key_id, "key_id": key_id(public),
            "epk": b64e(w.epk), "nonce": b64e(w.nonce), "wrapped": b64e(w.wrapped)}


def decrypt_share(container: dict[str, Any] | bytes | str,
                  custodian_private_key: ec.EllipticCurvePrivateKey) -> ReleasedShare:
    """Unwrap a share container with the custodian's private key."""
    doc = _load_doc(container, _ENCRYPTED_FIELDS)
    x, k, okid = _check_meta(doc)
    if not is_hex64(doc["key_id"]):
        raise FormatError("share key_id malformed", "share_invalid")
    epk = b64d(doc["epk"], length=SPKI_LENGTH, what="epk")
    load_public_key(epk)
    nonce = b64d(doc["nonce"], length=12, what="nonce")
    wrapped = b64d(doc["wrapped"], length=48, what="wrapped")
    own = key_id(custodian_private_key.public_key())
    if doc["key_id"] != own:
        raise DecryptionError("this share is encrypted to another custodian key", "not_a_recipient")
    y = int.from_bytes(unwrap_key(custodian_private_key, epk, nonce, wrapped, aad_key_id=own), "big")
    if y >= ORDER:
        raise ShamirError("share value out of range", "shamir_bad_share")
    return ReleasedShare(Share(x, y), k, okid)


def parse_released_share(data: dict[str, Any] | bytes | str) -> ReleasedShare:
    """Parse a share released by a custodian (``ReleasedShare.to_json_bytes``)."""
    doc = _load_doc(data, _PLAIN_FIELDS)
    x, k, okid = _check_meta(doc)
    y = int.from_bytes(b64d(doc["y"], length=32, what="y"), "big")
    if y >= ORDER:
        raise ShamirError("share value out of range", "shamir_bad_share")
    return ReleasedShare(Share(x, y), k, okid)


def combine_released(released: Sequence[ReleasedShare]) -> ec.EllipticCurvePrivateKey:
    """Rebuild the opening key from custodians' released shares (all for the same key)."""
    if not released:
        raise ShamirError("no shares given", "shamir_too_few")
    okids = {r.opening_key_id for r in released}
    thresholds = {r.threshold for r in released}
    if len(okids) != 1 or len(thresholds) != 1:
        raise ShamirError("shares belong to different opening keys", "shamir_bad_share")
    return combine_private_key([r.share for r in released], opening_key_id=okids.pop(),
                               threshold=thresholds.pop())


@dataclass(frozen=True)
class OpeningKey:
    """What the platform stores for a lot: the public key and the encrypted shares."""

    public_spki: bytes
    key_id: str
    threshold: int
    shares: tuple[dict[str, Any], ...]  # share containers, in custodian order, x = 1..n


def create_opening_key(custodian_keys: Sequence[PublicKeyLike], threshold: int = 2) -> OpeningKey:
    """Make a lot's opening key pair, share its private key among the custodians, drop it.

    Python cannot wipe memory; the private key object simply goes out of scope here.
    """
    _check_params(threshold, len(custodian_keys))
    publics = [load_public_key(k) for k in custodian_keys]
    private = generate_private_key()
    spki = spki_der(private)
    okid = key_id(spki)
    shares = split_private_key(private, threshold, len(publics))
    del private
    containers = tuple(encrypt_share(s, pub, threshold=threshold, opening_key_id=okid)
                       for s, pub in zip(shares, publics, strict=True))
    return OpeningKey(spki, okid, threshold, containers)
