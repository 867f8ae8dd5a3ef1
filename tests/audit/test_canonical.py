"""The canonical form and leaf hash of a fixed event are pinned (SPECS.md §2)."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from audit import canonical
from audit.canonical import CanonicalJSONError, canonical_bytes
from sbe1 import canonical as sbe1_canonical

FIXED_EVENT = {
    "seq": 7,
    "ts": dt.datetime(2026, 11, 22, 8, 0, 0, 123456, tzinfo=dt.UTC),
    "actor": "42",
    "action": "tender.published",
    "object": "trading.tender:17",
    "data": {"title": "道路改造工程 Lot 1", "price": Decimal("1234567.89"), "lots": [1, 2], "ok": True,
             "none": None, "deadline": dt.datetime(2026, 12, 12, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))},
    "prev": "ab" * 32,
}

EXPECTED_CANONICAL = (
    '{"action":"tender.published","actor":"42","data":{"deadline":"2026-12-12T01:30:00.000000Z",'
    '"lots":[1,2],"none":null,"ok":true,"price":"1234567.89","title":"道路改造工程 Lot 1"},'
    '"object":"trading.tender:17","prev":"' + "ab" * 32 + '","seq":7,"ts":"2026-11-22T08:00:00.123456Z"}'
)
# Checked in: SHA-256(0x00 || canonical bytes), the RFC 6962 leaf hash.
EXPECTED_LEAF_HASH = "e07d00946f868bb761f0fd8bb3220d572230917d3e9c4481f7abac8ae0974603"


def test_canonical_bytes_of_fixed_event():
    assert canonical_bytes(FIXED_EVENT) == EXPECTED_CANONICAL.encode("utf-8")


def test_leaf_hash_of_fixed_event():
    assert hashlib.sha256(b"\x00" + canonical_bytes(FIXED_EVENT)).hexdigest() == EXPECTED_LEAF_HASH


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\udc00\ud800"])
def test_a_lone_surrogate_is_refused_like_a_float(text):
    """SPECS.md §2: canonical JSON is UTF-8, and a lone surrogate has no UTF-8 encoding. The audit
    log refuses it with CanonicalJSONError (a TypeError), the rule of sbe1/canonical.py that
    docs/sbe1.md documents, never with a UnicodeEncodeError from deep inside the encoder."""
    with pytest.raises(CanonicalJSONError, match="lone surrogate") as caught:
        canonical_bytes({"title": text})
    assert isinstance(caught.value, TypeError)
    with pytest.raises(CanonicalJSONError):
        canonical_bytes({text: 1})  # in a key too


def test_a_surrogate_pair_written_as_one_character_is_valid():
    assert canonical_bytes({"clef": "\U0001d11e"}) == '{"clef":"𝄞"}'.encode()


def test_the_audit_log_and_sbe1_share_one_encoder():
    assert canonical.canonical_bytes is sbe1_canonical.canonical_bytes
    assert canonical.normalize is sbe1_canonical.normalize and canonical.dumps is sbe1_canonical.dumps
    assert canonical.CanonicalJSONError is sbe1_canonical.CanonicalJSONError
