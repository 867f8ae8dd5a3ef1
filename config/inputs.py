"""Input the database or the parser cannot hold (docs/api.md, "Limits").

PostgreSQL refuses NUL characters in text and the UTF-8 codec refuses lone
surrogates (`"\\ud800"` in JSON); Python's JSON decoder recurses once per nesting
level; `datetime` cannot hold years outside 1–9999 once a UTC offset moves them.
Every entry point checks its input here first and refuses it as a 4xx:
`config.middleware.InputSanitationMiddleware` (paths, query strings, form bodies),
`config.parsers.StrictJSONParser` (JSON bodies), the bank messages and statements
(trading/deposits/bankmsg.py, statement.py) and the serializer date-time fields.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

# Deepest JSON nesting accepted (objects and arrays). The deepest legitimate body
# (an evaluation sheet: object → marks → item → object) is 4 levels.
MAX_JSON_DEPTH = 32
# Date-times outside this range are refused (a bank booking in year 1, a deadline in 9999).
EARLIEST_DATETIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST_DATETIME = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def text_problem(value: str) -> str | None:
    """Why the database cannot store `value` (NUL, lone surrogate), or None."""
    if "\x00" in value:
        return "NUL characters are not accepted."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Lone surrogate characters (invalid Unicode) are not accepted."
    return None


def data_problem(data: Any, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """The first problem of parsed JSON data (strings and keys as in `text_problem`, depth,
    non-finite numbers), or None. Iterative: deep data cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return problem
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                return f"JSON nested deeper than {max_depth} levels is not accepted."
            if isinstance(value, dict):
                for key, item in value.items():
                    stack.append((key, depth + 1))
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, float) and not math.isfinite(value):
            return "NaN and Infinity are not JSON numbers."
    return None


def datetime_problem(value: dt.datetime) -> str | None:
    """Why `value` (aware) is outside the accepted range, or None."""
    if value.tzinfo is None:
        return None
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        return "The date is outside the accepted range."
    if not EARLIEST_DATETIME <= utc < LATEST_DATETIME:
        return (f"The date must lie between {EARLIEST_DATETIME:%Y-%m-%d} and "
                f"{LATEST_DATETIME:%Y-%m-%d} (UTC).")
    return None
