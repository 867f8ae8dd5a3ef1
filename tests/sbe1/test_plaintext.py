"""Manifest + files: building, verifying reader, mismatches, file names."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal

import pytest

import sbe1
from sbe1.canonical import dumps
from sbe1.plaintext import FileEntry, make_manifest, read_plaintext

FORM = {"price": "1234567.89", "currency": "CNY", "duration_days": 180}


def entry(name: str, data: bytes) -> FileEntry:
    return FileEntry(name, len(data), hashlib.sha256(data).hexdigest())


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i: i + size] for i in range(0, len(data), size)] or [b""]


def test_build_and_read_round_trip(tmp_path):
    (tmp_path / "technical.pdf").write_bytes(b"%PDF" + bytes(5000))
    files = [tmp_path / "technical.pdf", ("commercial.xlsx", b"PK\x03\x04 sheet"), ("empty.txt", b""),
             ("说明.txt", io.BytesIO("投标说明".encode()))]
    plain = b"".join(sbe1.build_plaintext(FORM, files, read_size=100))
    manifest_line = plain[: plain.index(b"\n") + 1]
    expected = [entry("technical.pdf", b"%PDF" + bytes(5000)), entry("commercial.xlsx", b"PK\x03\x04 sheet"),
                entry("empty.txt", b""), entry("说明.txt", "投标说明".encode())]
    assert manifest_line == dumps({"form": FORM, "files": [e.to_json() for e in expected]}) + b"\n"
    sinks: dict[str, io.BytesIO] = {}

    def open_sink(e: FileEntry) -> io.BytesIO:
        sinks[e.name] = io.BytesIO()
        return sinks[e.name]

    for size in (1, 7, 4096, len(plain)):
        manifest = read_plaintext(split(plain, size), open_sink)
        assert manifest.form == FORM
        assert [f.name for f in manifest.files] == ["technical.pdf", "commercial.xlsx", "empty.txt", "说明.txt"]
        assert sinks["说明.txt"].getvalue() == "投标说明".encode()
        assert sinks["technical.pdf"].getvalue() == b"%PDF" + bytes(5000)
        assert sinks["empty.txt"].getvalue() == b""


def test_form_values_are_normalized_and_floats_refused():
    manifest = sbe1.manifest_of({"price": Decimal("10.50"), "n": 3}, [])
    assert manifest.form == {"price": "10.50", "n": 3}
    with pytest.raises(sbe1.FormatError):
        sbe1.manifest_of({"price": "1", "ratio": 0.5}, [])
    for price in ("1,000.00", "-5", "1e3", "01.5", " 1", "１２"):
        with pytest.raises(sbe1.ManifestError) as info:
            sbe1.manifest_of({"price": price}, [])
        assert info.value.code == "bad_price"
    with pytest.raises(sbe1.ManifestError):
        sbe1.manifest_of({"price": 100}, [])


def _plain(files: list[FileEntry], payload: bytes, form: dict | None = None) -> bytes:
    return make_manifest(form or {}, files).line + payload


@pytest.mark.parametrize(("files", "payload", "code"), [
    ([entry("a", b"hello")], b"hellO", "file_hash_mismatch"),
    ([entry("a", b"hello")], b"hell", "file_size_mismatch"),
    ([entry("a", b"hello")], b"hello!", "file_size_mismatch"),
    ([entry("a", b"hello"), entry("b", b"world")], b"helloworl", "file_size_mismatch"),
    ([entry("a", b"hello"), entry("b", b"world")], b"worldhello", "file_hash_mismatch"),
    ([FileEntry("a", 4, hashlib.sha256(b"hello").hexdigest())], b"hello", "file_hash_mismatch"),
    ([], b"x", "file_size_mismatch"),
])
def test_manifest_mismatch(files, payload, code):
    with pytest.raises(sbe1.ManifestError) as info:
        read_plaintext(split(_plain(files, payload), 3))
    assert info.value.code == code


def test_manifest_mismatch_detected_after_real_decryption(seal_bytes, keys):
    plain = _plain([entry("a.pdf", b"0123456789")], b"0123456789" + b"extra")
    s = seal_bytes(plain)
    with pytest.raises(sbe1.ManifestError) as info:
        sbe1.open_envelope_bytes(s.data, private_key=keys.bidder)
    assert info.value.code == "file_size_mismatch"
    good = seal_bytes(_plain([entry("a.pdf", b"0123456789")], b"0123456789"))
    opened = sbe1.open_envelope_bytes(good.data, dek=good.dek)
    assert opened.manifest.files[0].name == "a.pdf"


@pytest.mark.parametrize("line", [
    b'{"files":[],"form":{}}',  # no newline: plaintext ends inside the manifest
    b'{"form":{},"files":[]}\n',  # not canonical (key order)
    b'{"files":[],"form":[]}\n',
    b'{"files":[],"form":{},"x":1}\n',
    b'{"files":[{"name":"a","sha256":"00","size":1}],"form":{}}\n',
    b'{"files":[{"name":"a","sha256":"' + b"0" * 64 + b'","size":-1}],"form":{}}\n',
    b'{"files":[{"name":"a","sha256":"' + b"0" * 64 + b'","size":true}],"form":{}}\n',
    b'{"files":[{"name":"a","sha256":"' + b"A" * 64 + b'","size":0}],"form":{}}\n',
])
def test_invalid_manifest(line):
    with pytest.raises(sbe1.ManifestError):
        read_plaintext([line])


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "..\\x", "c:x", "a\x00", "tab\there", " lead", "trail ",
                                  "dot.", "a" * 256, "é" * 128, 'q"uote', "pipe|", "star*"])
def test_bad_file_names(name):
    with pytest.raises(sbe1.ManifestError) as info:
        sbe1.manifest_of({}, [(name, b"x")])
    assert info.value.code == "bad_file_name"


def test_duplicate_names_and_good_names():
    with pytest.raises(sbe1.ManifestError):
        sbe1.manifest_of({}, [("a.pdf", b"1"), ("a.pdf", b"2")])
    ok = sbe1.manifest_of({}, [("技术标 v1.2.pdf", b""), ("a" * 255, b""), ("é" * 127, b""), (".hidden", b"")])
    assert len(ok.files) == 4


def test_file_changed_while_sealing(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 100)
    stream = sbe1.build_plaintext({}, [path])
    path.write_bytes(b"y" * 100)
    with pytest.raises(sbe1.ManifestError) as info:
        b"".join(stream)
    assert info.value.code == "file_changed"


def test_manifest_size_limit():
    with pytest.raises(sbe1.ManifestError):
        read_plaintext([b"{" + b"x" * 1_048_576])
