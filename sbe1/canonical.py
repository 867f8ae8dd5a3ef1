"""Canonical JSON (SPECS.md §2): the platform's one implementation, Django-free.

Keys sorted (by code point, as Python sorts ``str``), separators ``,`` and ``:`` without
spaces, UTF-8 (not ASCII-escaped), integers only; decimals as strings; datetimes as
RFC 3339 UTC with microseconds and a ``Z`` suffix. A lone surrogate has no UTF-8 encoding
and is refused (``CanonicalJSONError``). The audit log uses this encoder
(``audit/canonical.py`` re-exports it); the browser module ``sbe1.js`` implements the same
encoder (tests/sbe1/test_canonical.py checks that they agree).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

from .errors import FormatError


class CanonicalJSONError(FormatError, TypeError):
    default_code = "not_canonical_json"


def format_timestamp(value: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds and "Z": 2026-11-22T08:00:00.123456Z."""
    if value.tzinfo is None:
        raise CanonicalJSONError("naive datetime in canonical JSON")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize(value: Any) -> Any:
    """Turn Python values into the canonical JSON data model; floats are refused."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        raise CanonicalJSONError("floats are not allowed in canonical JSON; use a decimal string")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise CanonicalJSONError("bytes are not allowed in canonical JSON; encode them (hex/base64) first")
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(f"object keys must be strings, not {type(key).__name__}")
            out[key] = normalize(item)
        return out
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    raise CanonicalJSONError(f"{type(value).__name__} is not representable in canonical JSON")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> bytes:
    """Canonical bytes of already-normalized JSON data."""
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates cannot be UTF-8
        raise CanonicalJSONError("string is not valid Unicode (lone surrogate)") from exc


def canonical_bytes(value: Any) -> bytes:
    return dumps(normalize(value))


def _reject_float(text: str) -> Any:
    raise FormatError(f"non-integer number {text!r} in canonical JSON", "not_canonical_json")


def _reject_constant(text: str) -> Any:
    raise FormatError(f"{text} is not allowed in canonical JSON", "not_canonical_json")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise FormatError(f"duplicate key {key!r} in JSON object", "not_canonical_json")
        out[key] = value
    return out


def loads_strict(data: bytes | str) -> Any:
    """Parse JSON with integers only, no NaN/Infinity and no duplicate keys."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError("JSON is not valid UTF-8", "not_canonical_json") from exc
    try:
        return json.loads(data, parse_float=_reject_float, parse_constant=_reject_constant,
                          object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc}", "not_canonical_json") from exc


def loads_canonical(data: bytes) -> Any:
    """Parse ``data`` and insist it is exactly the canonical encoding of its value."""
    value = loads_strict(data)
    if dumps(value) != data:
        raise FormatError("JSON is not in canonical form (SPECS.md §2)", "not_canonical_json")
    return value
