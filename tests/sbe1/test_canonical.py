"""The package's canonical JSON (also the audit log's, audit/canonical.py) and sbe1.js agree."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from sbe1 import canonical as ours
from sbe1.errors import FormatError


def test_refuses_what_the_audit_log_refuses():
    """audit/canonical.py re-exports this encoder (tests/audit/test_canonical.py): one rule."""
    for bad in (1.5, {"a": float("nan")}, {1: "x"}, b"bytes", dt.datetime(2026, 1, 1), object(),
                {"lone": "\ud800"}):
        with pytest.raises(ours.CanonicalJSONError) as caught:
            ours.canonical_bytes(bad)
        assert isinstance(caught.value, TypeError) and isinstance(caught.value, FormatError)


def test_pinned_encoding():
    value = {"seq": 7, "ts": dt.datetime(2026, 11, 22, 8, 0, 0, 123456, tzinfo=dt.UTC),
             "price": Decimal("1234567.89"), "id": uuid.UUID(int=5), "day": dt.date(2026, 12, 1), "none": None,
             "ok": True, "ａ": 1, "😀": 3, "\ue000": 6, "ctl": "\x00\x1f\n", "big": 10**30}
    assert ours.canonical_bytes(value) == (
        '{"big":1000000000000000000000000000000,"ctl":"\\u0000\\u001f\\n","day":"2026-12-01",'
        '"id":"00000000-0000-0000-0000-000000000005","none":null,"ok":true,"price":"1234567.89",'
        '"seq":7,"ts":"2026-11-22T08:00:00.123456Z","\ue000":6,"ａ":1,"😀":3}').encode()


def test_loads_canonical():
    assert ours.loads_canonical(b'{"a":1,"b":[true,null]}') == {"a": 1, "b": [True, None]}
    for text in (b'{"b":1,"a":2}', b'{"a":1.0}', b'{"a":1e2}', b'{"a": 1}', b'{"a":1,"a":1}', b'{"a":NaN}',
                 b'{"a":"\\u00e9"}', b'"\\ud800"', b"\xef\xbb\xbf{}", b"{} "):
        with pytest.raises(FormatError):
            ours.loads_canonical(text)


JS_VALUES = [
    {"b": 1, "a": [1, [2, {"z": "", "y": -3}]], "": 0, "n": None, "t": True},
    {"道路改造工程": "标段 1", "ａ": 1, "a": 2, "😀": 3, "\uff01": 4, "\U0001f600x": 5, "\ue000": 6, "𝄞": 8,
     "\ud7ff": 9, "z": 7},
    {"ctl": "\x00\x01\x1f\x7f\b\f\n\r\t", "quote": '"\\/', "sep": "\u2028\u2029", "astral": "𝄞"},
    {"form": {"price": "1234567.89", "currency": "CNY", "duration_days": 180}, "files": []},
    [9007199254740991, -9007199254740991, 0],
]


def test_js_encoder_matches_python(node):
    results = node.run([{"op": "canonical", "value": v} for v in JS_VALUES])
    for value, result in zip(JS_VALUES, results, strict=True):
        assert result["ok"], result
        assert result["text"].encode("utf-8") == ours.canonical_bytes(value)
    # code-point order (Python's) differs from UTF-16 code-unit order (JS's default sort) here
    keys = list(ours.loads_canonical(results[1]["text"].encode()))
    assert keys[-6:] == ["\ue000", "\uff01", "\uff41", "𝄞", "😀", "\U0001f600x"]
    assert sorted(keys, key=lambda k: k.encode("utf-16-be")) != keys


def test_js_parser_accepts_and_refuses_like_python(node):
    texts = ['{"a":1,"b":[true,null]}', '{"b":1,"a":2}', '{"a":1.0}', '{"a":1e2}', '{"a": 1}', '{"a":1,"a":1}',
             '{"a":"\\u00e9"}', '"\\ud800"', "\ufeff{}", "{} ", '{"😀":1,"！":2}', '{"！":2,"😀":1}',
             '{"a":"\\u001f"}', '{"a":"\\u001F"}', '{"a":12345678901234567890}']
    results = node.run([{"op": "parseCanonical", "text": t} for t in texts])
    for text, result in zip(texts, results, strict=True):
        try:
            ours.loads_canonical(text.encode("utf-8"))
            python_ok = True
        except FormatError:
            python_ok = False
        big_int = text == '{"a":12345678901234567890}'  # beyond JS integers: JS refuses, Python accepts
        assert result["ok"] == (python_ok and not big_int), (text, result)
