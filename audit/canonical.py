"""Canonical JSON (SPECS.md §2).

Keys sorted, separators "," and ":" without spaces, UTF-8 (not ASCII-escaped),
integers only; decimals as strings; datetimes as RFC 3339 UTC with a "Z" suffix.
`normalize` turns Python values into that JSON data model and refuses floats,
so what is hashed is exactly what is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any


class CanonicalJSONError(TypeError):
    pass


def format_timestamp(value: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds and "Z": 2026-11-22T08:00:00.123456Z."""
    if value.tzinfo is None:
        raise CanonicalJSONError("naive datetime in canonical JSON")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize(value: Any) -> Any:
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
    return _ENCODER.encode(value).encode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    return dumps(normalize(value))
