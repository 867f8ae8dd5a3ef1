"""Strict base64 and hex helpers shared by the modules of the package.

Base64 everywhere in SBE1 is the standard alphabet (RFC 4648 §4) with ``=`` padding;
decoding rejects whitespace, the URL-safe alphabet, missing padding and non-zero
trailing bits, so every byte string has exactly one accepted encoding.
"""

from __future__ import annotations

import base64
import binascii
import re

from .errors import FormatError

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: object, *, length: int | None = None, what: str = "value") -> bytes:
    """Decode canonical padded base64; optionally insist on a decoded ``length``."""
    if not isinstance(text, str):
        raise FormatError(f"{what} must be a base64 string", "bad_base64")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise FormatError(f"{what} is not valid base64", "bad_base64") from exc
    if b64e(raw) != text:
        raise FormatError(f"{what} is not canonical base64", "bad_base64")
    if length is not None and len(raw) != length:
        raise FormatError(f"{what} must decode to {length} bytes, not {len(raw)}", "bad_base64")
    return raw


def is_hex64(value: object) -> bool:
    """True for a lowercase hex SHA-256 (64 characters)."""
    return isinstance(value, str) and bool(_HEX64.match(value))
