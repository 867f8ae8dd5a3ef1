"""Canonical JSON (SPECS.md §2) of the audit log: the one implementation in `sbe1.canonical`.

Keys sorted by code point, separators "," and ":" without spaces, UTF-8 (not ASCII-escaped),
integers only; decimals as strings; datetimes as RFC 3339 UTC with microseconds and a "Z"
suffix. `normalize` turns Python values into that JSON data model and refuses floats, so what
is hashed is exactly what is stored. A string that is not valid Unicode (a lone surrogate such
as "\\ud800") has no UTF-8 encoding and is refused with `CanonicalJSONError`, like a float.

sbe1 is the Django-free package of the sealed-bid envelope (docs/sbe1.md), below the audit core
in the layering (docs/architecture.md): the audit log uses its encoder, so there is one.
`CanonicalJSONError` is a `TypeError` (and sbe1's `FormatError`).
"""

from __future__ import annotations

from sbe1.canonical import CanonicalJSONError, canonical_bytes, dumps, format_timestamp, normalize

__all__ = ["CanonicalJSONError", "canonical_bytes", "dumps", "format_timestamp", "normalize"]
