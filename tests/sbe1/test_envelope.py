"""Sealing and opening in Python: layout, header validation, tampering, truncation, edge sizes."""

from __future__ import annotations

import base64
import hashlib
import io
import json

import pytest

import sbe1
from sbe1.canonical import dumps
from sbe1.envelope import chunk_nonce, decrypt
from sbe1.header import MAGIC, parse_header

PLAIN = bytes(range(256)) * 3  # 768 bytes -> 12 chunks of 64


def plaintext_of(data: bytes, dek: bytes) -> bytes:
    return b"".join(decrypt(io.BytesIO(data), dek))


def error_code(data: bytes, dek: bytes) -> str:
    with pytest.raises(sbe1.SBE1Error) as info:
        plaintext_of(data, dek)
    return info.value.code


def test_layout_matches_specs(seal_bytes, keys):
    s = seal_bytes(PLAIN)
    assert s.data.startswith(MAGIC)
    line = s.data[len(MAGIC): s.data.index(b"\n", len(MAGIC)) + 1]
    doc = json.loads(line)
    assert dumps(doc) + b"\n" == line  # canonical JSON + "\n"
    assert doc["v"] == 1 and doc["suite"] == "P256-HKDF-SHA256-A256GCM"
    assert (doc["tender"], doc["lot"], doc["bidder"], doc["chunk_size"]) == ("T-1", "L-1", "ORG-9", 64)
    assert len(base64.b64decode(doc["nonce_prefix"])) == 7
    kinds = {r["kind"]: r for r in doc["recipients"]}
    assert kinds["bidder"]["key_id"] == sbe1.key_id(keys.bidder.public_key())
    assert kinds["opening"]["key_id"] == hashlib.sha256(sbe1.spki_der(keys.opening)).hexdigest()
    for r in doc["recipients"]:
        assert len(base64.b64decode(r["nonce"])) == 12
        assert len(base64.b64decode(r["wrapped_dek"])) == 48
        sbe1.load_public_key(base64.b64decode(r["epk"]))
    # 768 bytes in 64-byte chunks: 12 chunks of 64 + 16 tag bytes
    assert len(s.data) == len(MAGIC) + len(line) + 12 * 80
    # chunk nonce and AAD exactly as SPECS: prefix || uint32 BE index || final flag; AAD = SHA-256(line)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    last = s.data[-80:]
    prefix = base64.b64decode(doc["nonce_prefix"])
    nonce = prefix + (11).to_bytes(4, "big") + b"\x01"
    assert nonce == chunk_nonce(prefix, 11, True)
    assert AESGCM(s.dek).decrypt(nonce, last, hashlib.sha256(line).digest()) == PLAIN[-64:]


def test_round_trip_with_both_recipients(seal_bytes, keys):
    s = seal_bytes(PLAIN)
    assert plaintext_of(s.data, s.dek) == PLAIN
    assert sbe1.unwrap_dek(s.header, keys.opening) == s.dek
    assert sbe1.unwrap_dek(s.header, keys.opening, "opening") == s.dek
    assert s.result.sha256 == hashlib.sha256(s.data).digest() and s.result.size == len(s.data)


def test_empty_plaintext_is_one_empty_final_chunk(seal_bytes):
    s = seal_bytes(b"")
    assert len(s.data) == s.header.size + 16
    assert plaintext_of(s.data, s.dek) == b""


def test_exact_multiple_of_chunk_size_has_no_extra_chunk(seal_bytes):
    s = seal_bytes(b"x" * 256)
    assert len(s.chunk_offsets()) == 4
    assert plaintext_of(s.data, s.dek) == b"x" * 256


def test_iterable_source_rechunks(seal_bytes):
    pieces = [b"a" * 10, b"", b"b" * 200, b"c" * 54]  # 264 bytes in odd pieces
    s = seal_bytes(iter(pieces))
    assert [e - b for b, e in s.chunk_offsets()] == [80, 80, 80, 80, 24]
    assert plaintext_of(s.data, s.dek) == b"".join(pieces)


def test_tampered_header_byte(seal_bytes):
    s = seal_bytes(PLAIN)
    i = s.data.index(b'"tender":"T-1"') + len('"tender":"T-')
    data = s.data[:i] + b"2" + s.data[i + 1:]
    header = parse_header(data)  # still a valid header...
    assert header.tender == "T-2"
    assert error_code(data, s.dek) == "chunk_auth_failed"  # ...but the AAD no longer matches


@pytest.mark.parametrize("where", [0, 5, "last"])
def test_tampered_chunk_byte(seal_bytes, where):
    s = seal_bytes(PLAIN)
    start, end = s.chunk_offsets()[-1 if where == "last" else where]
    data = bytearray(s.data)
    data[start + 3] ^= 0x01
    assert error_code(bytes(data), s.dek) == "chunk_auth_failed"


def test_tampered_tag_byte(seal_bytes):
    s = seal_bytes(PLAIN)
    data = bytearray(s.data)
    data[s.chunk_offsets()[2][1] - 1] ^= 0x80
    assert error_code(bytes(data), s.dek) == "chunk_auth_failed"


def test_final_chunk_dropped(seal_bytes):
    s = seal_bytes(PLAIN)
    assert error_code(s.data[: s.chunk_offsets()[-1][0]], s.dek) == "missing_final_chunk"


@pytest.mark.parametrize("cut", [1, 15, 16, 40, 79])
def test_truncated_mid_chunk(seal_bytes, cut):
    s = seal_bytes(PLAIN)
    start, _ = s.chunk_offsets()[-1]
    code = error_code(s.data[: start + cut], s.dek)
    assert code == ("truncated" if cut < 16 else "chunk_auth_failed")


def test_truncated_to_header_only(seal_bytes):
    s = seal_bytes(PLAIN)
    assert error_code(s.data[: s.header.size], s.dek) == "truncated"


def test_chunk_appended_after_final(seal_bytes):
    s = seal_bytes(PLAIN)
    start, end = s.chunk_offsets()[0]
    assert error_code(s.data + s.data[start:end], s.dek) == "data_after_final"
    assert error_code(s.data + b"\x00" * 16, s.dek) == "data_after_final"


def test_final_chunk_from_other_envelope_is_rejected(seal_bytes):
    a, b = seal_bytes(PLAIN), seal_bytes(PLAIN)
    start, end = b.chunk_offsets()[-1]
    assert error_code(a.data[: a.chunk_offsets()[-1][0]] + b.data[start:end], a.dek) == "chunk_auth_failed"


def test_two_chunks_swapped(seal_bytes):
    s = seal_bytes(PLAIN)
    (a0, a1), (b0, b1) = s.chunk_offsets()[3], s.chunk_offsets()[4]
    data = s.data[:a0] + s.data[b0:b1] + s.data[a0:a1] + s.data[b1:]
    assert len(data) == len(s.data)
    assert error_code(data, s.dek) == "chunk_auth_failed"


def test_wrong_dek_and_wrong_key(seal_bytes, keys):
    s = seal_bytes(PLAIN)
    assert error_code(s.data, bytes(32)) == "chunk_auth_failed"
    with pytest.raises(sbe1.DecryptionError) as info:
        sbe1.unwrap_dek(s.header, keys.other)
    assert info.value.code == "not_a_recipient"
    with pytest.raises(sbe1.DecryptionError) as info:
        sbe1.unwrap_dek(s.header, keys.other, "bidder")
    assert info.value.code == "not_a_recipient"


def test_wrong_wrapping_aad_is_rejected(seal_bytes, keys):
    from sbe1.wrap import unwrap_key
    s = seal_bytes(PLAIN)
    r = s.header.recipient("bidder")
    assert unwrap_key(keys.bidder, r.epk, r.nonce, r.wrapped_dek) == s.dek
    with pytest.raises(sbe1.DecryptionError) as info:
        unwrap_key(keys.bidder, r.epk, r.nonce, r.wrapped_dek, aad_key_id=sbe1.key_id(keys.other.public_key()))
    assert info.value.code == "unwrap_failed"
    # the opening recipient's wrapped DEK does not open with the bidder key (other ECDH secret)
    o = s.header.recipient("opening")
    with pytest.raises(sbe1.DecryptionError):
        unwrap_key(keys.bidder, o.epk, o.nonce, o.wrapped_dek, aad_key_id=r.key_id)


def test_swapped_key_ids_in_header_fail(seal_bytes, keys):
    """Relabelling the recipients (a valid-looking header) breaks the chunk AAD and the unwrap."""
    s = seal_bytes(PLAIN)
    doc = json.loads(s.header.line)
    for r in doc["recipients"]:
        r["kind"] = {"bidder": "opening", "opening": "bidder"}[r["kind"]]
    line = dumps(doc) + b"\n"
    data = MAGIC + line + s.data[s.header.size:]
    header = parse_header(data)
    with pytest.raises(sbe1.DecryptionError):
        sbe1.unwrap_dek(header, keys.bidder, "bidder")
    assert error_code(data, s.dek) == "chunk_auth_failed"


def _with_header(doc: dict, tail: bytes = b"") -> bytes:
    return MAGIC + dumps(doc) + b"\n" + tail


@pytest.mark.parametrize(("mutate", "code"), [
    (lambda d: d.update(v=2), "unsupported_version"),
    (lambda d: d.update(v=True), "unsupported_version"),
    (lambda d: d.update(suite="P384-HKDF-SHA384-A256GCM"), "unsupported_suite"),
    (lambda d: d.update(extra=1), "header_invalid"),
    (lambda d: d.pop("lot"), "header_invalid"),
    (lambda d: d.update(lot=""), "header_invalid"),
    (lambda d: d.update(lot=5), "header_invalid"),
    (lambda d: d.update(chunk_size=0), "header_invalid"),
    (lambda d: d.update(chunk_size=16 * 1048576 + 1), "header_invalid"),
    (lambda d: d.update(nonce_prefix=base64.b64encode(b"12345678").decode()), "bad_base64"),
    (lambda d: d.update(nonce_prefix="AAAAAAAAAB=="), "bad_base64"),  # non-zero trailing bits
    (lambda d: d.update(nonce_prefix="AAAAAAAAAA"), "bad_base64"),  # missing padding
    (lambda d: d["recipients"].pop(), "bad_recipients"),
    (lambda d: d["recipients"].append(dict(d["recipients"][0])), "bad_recipients"),
    (lambda d: d["recipients"][1].update(kind="bidder"), "bad_recipients"),
    (lambda d: d["recipients"][1].update(kind="custodian"), "bad_recipients"),
    (lambda d: d["recipients"][1].update(key_id=d["recipients"][0]["key_id"]), "bad_recipients"),
    (lambda d: d["recipients"][0].update(key_id="AB" * 32), "bad_recipients"),
    (lambda d: d["recipients"][0].update(wrapped_dek=base64.b64encode(b"x" * 47).decode()), "bad_base64"),
    (lambda d: d["recipients"][0].update(nonce=base64.b64encode(b"x" * 16).decode()), "bad_base64"),
    (lambda d: d["recipients"][0].update(epk=base64.b64encode(b"x" * 91).decode()), "bad_recipients"),
    (lambda d: d["recipients"][0].update(epk=base64.b64encode(b"x" * 65).decode()), "bad_base64"),
    (lambda d: d["recipients"][0].update(extra="1"), "bad_recipients"),
])
def test_header_validation_errors(seal_bytes, mutate, code):
    s = seal_bytes(b"abc")
    doc = json.loads(s.header.line)
    mutate(doc)
    with pytest.raises(sbe1.FormatError) as info:
        parse_header(_with_header(doc))
    assert info.value.code == code, str(info.value)


def test_epk_not_on_curve(seal_bytes):
    s = seal_bytes(b"abc")
    doc = json.loads(s.header.line)
    epk = bytearray(base64.b64decode(doc["recipients"][0]["epk"]))
    epk[-1] ^= 1  # y no longer matches x
    doc["recipients"][0]["epk"] = base64.b64encode(bytes(epk)).decode()
    with pytest.raises(sbe1.FormatError) as info:
        parse_header(_with_header(doc))
    assert info.value.code == "bad_recipients"


@pytest.mark.parametrize(("transform", "code"), [
    (lambda line: line.replace(b'"v":1', b'"v":1.0'), "header_not_canonical"),
    (lambda line: line.replace(b'"v":1', b'"v": 1'), "header_not_canonical"),
    (lambda line: line.replace(b'{"bidder"', b'{"v":1,"bidder"'), "header_not_canonical"),  # duplicate key
    (lambda line: b'{"lot":"L-1",' + line[1:].replace(b'"lot":"L-1",', b""), "header_not_canonical"),  # order
    (lambda line: line.replace(b'"T-1"', b'"T\\u002d1"'), "header_not_canonical"),  # needless escape
    (lambda line: b"\xef\xbb\xbf" + line, "header_not_canonical"),  # BOM
    (lambda line: line.replace(b'"T-1"', b'"T\xff1"'), "header_not_canonical"),  # invalid UTF-8
    (lambda line: line[:-1], "truncated"),
])
def test_non_canonical_header(seal_bytes, transform, code):
    s = seal_bytes(b"abc")
    with pytest.raises(sbe1.FormatError) as info:
        parse_header(MAGIC + transform(s.header.line))
    assert info.value.code == code


def test_bad_magic_and_oversized_header(seal_bytes):
    s = seal_bytes(b"abc")
    for magic in (b"SBE2\n", b"sbe1\n", b"SBE1\r", b""):
        with pytest.raises(sbe1.FormatError) as info:
            sbe1.read_header(io.BytesIO(magic + s.data[5:]))
        assert info.value.code == "bad_magic"
    with pytest.raises(sbe1.FormatError) as info:
        sbe1.read_header(io.BytesIO(MAGIC + b"{" + b" " * 70000 + b"}\n"))
    assert info.value.code == "header_too_long"


def test_check_header_expectations(seal_bytes, keys):
    s = seal_bytes(b"abc")
    bid, opk = sbe1.key_id(keys.bidder), sbe1.key_id(keys.opening)
    sbe1.check_header(s.header, tender="T-1", lot="L-1", bidder="ORG-9", bidder_key_id=bid, opening_key_id=opk)
    cases = {"tender": "T-2", "lot": "L-2", "bidder": "ORG-1", "bidder_key_id": opk, "opening_key_id": bid}
    for name, wrong in cases.items():
        with pytest.raises(sbe1.HeaderMismatchError) as info:
            sbe1.check_header(s.header, **{name: wrong})
        assert info.value.code == f"header_mismatch_{name}"


def test_seal_rejects_bad_inputs(keys):
    out = io.BytesIO()
    common = {"tender": "T", "lot": "L", "bidder": "B", "bidder_key": keys.bidder.public_key()}
    with pytest.raises(sbe1.FormatError):
        sbe1.seal(b"", out, opening_key=keys.opening.public_key(), chunk_size=0, **common)
    with pytest.raises(sbe1.FormatError):
        sbe1.seal(b"", out, opening_key=keys.bidder.public_key(), **common)  # same key twice
    with pytest.raises(sbe1.InvalidKeyError):
        sbe1.seal(b"", out, opening_key=b"not a key", **common)
    p384 = __import__("cryptography.hazmat.primitives.asymmetric.ec", fromlist=["ec"])
    with pytest.raises(sbe1.InvalidKeyError):
        sbe1.seal(b"", out, opening_key=p384.generate_private_key(p384.SECP384R1()).public_key(), **common)


def test_receive_envelope_copies_bytes_and_checks_structure(seal_bytes, keys):
    s = seal_bytes(PLAIN)
    sink = io.BytesIO()
    received = sbe1.receive_envelope(io.BytesIO(s.data), sink, read_size=50)
    assert sink.getvalue() == s.data
    assert received.sha256 == hashlib.sha256(s.data).digest() and received.size == len(s.data)
    assert received.header.line == s.header.line
    sbe1.verify_digest(keys.bidder.public_key(), received.sha256, sbe1.sign_envelope(keys.bidder, s.data))
    for bad, code in ((s.data[: s.header.size], "truncated"), (s.data[:-70], "truncated"),
                      (b"XBE1" + s.data[4:], "bad_magic")):
        with pytest.raises(sbe1.SBE1Error) as info:
            sbe1.receive_envelope(io.BytesIO(bad), io.BytesIO())
        assert info.value.code == code
    with pytest.raises(sbe1.FormatError) as info:
        sbe1.receive_envelope(io.BytesIO(s.data), io.BytesIO(), max_size=len(s.data) - 1)
    assert info.value.code == "too_large"


def test_decode_released_dek(seal_bytes):
    s = seal_bytes(PLAIN)
    text = base64.b64encode(s.dek).decode() + "\n"
    assert sbe1.decode_dek(text) == s.dek
    assert next(sbe1.decrypt(io.BytesIO(s.data), sbe1.decode_dek(text))) == PLAIN[:64]  # quick DEK check
    for bad in ("", "AAAA", base64.b64encode(bytes(31)).decode(), "not base64!"):
        with pytest.raises(sbe1.FormatError):
            sbe1.decode_dek(bad)
