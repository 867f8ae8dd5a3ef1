"""Python <-> browser module (sbe1.js under Node) interoperability, both ways."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path

import pytest

import sbe1
from sbe1.canonical import dumps

from .conftest import FAST_ITERATIONS, write_key_file

FORM = {"price": "1234567.89", "currency": "CNY", "duration_days": 180, "项目经理": "张三", "😀": "ok"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def bid_files(tmp_path: Path) -> dict[str, bytes]:
    files = {"technical.pdf": os.urandom(300_001), "商务标.docx": os.urandom(70_000), "empty.txt": b""}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return files


@pytest.mark.parametrize("chunk_size", [65_536, 1_048_576])
def test_python_seals_js_opens(node, keys, tmp_path, bid_files, chunk_size):
    keyfile = write_key_file(tmp_path / "bidder.json", keys.bidder, "密码 pw")
    out = io.BytesIO()
    result = sbe1.seal_bid(FORM, [tmp_path / n for n in bid_files], out, tender="TND-2026-001", lot="1",
                           bidder="91330100MA2XXXXX1Q", bidder_key=keys.bidder.public_key(),
                           opening_key=keys.opening.public_key(), chunk_size=chunk_size)
    envelope = tmp_path / "bid.sbe1"
    envelope.write_bytes(out.getvalue())
    dek = sbe1.unwrap_dek(result.header, keys.bidder)
    signature = sbe1.sign_envelope(keys.bidder, out.getvalue())
    expect = {"tender": "TND-2026-001", "lot": "1", "bidder": "91330100MA2XXXXX1Q",
              "bidderKeyId": sbe1.key_id(keys.bidder), "openingKeyId": sbe1.key_id(keys.opening)}
    common = {"envelope": str(envelope)}
    header, unwrapped, opened, opened_bytes, verified, js_sig, wrong_expect, tampered_sig = node.run([
        {"op": "header", "expect": expect, **common},
        {"op": "unwrapDek", "keyfile": str(keyfile), "password": "密码 pw", **common},
        {"op": "open", "keyfile": str(keyfile), "password": "密码 pw", **common},
        {"op": "open", "dek": base64.b64encode(dek).decode(), "as_bytes": True, **common},
        {"op": "verify", "spki": sbe1.spki_b64(keys.bidder), "signature": signature, **common},
        {"op": "sign", "keyfile": str(keyfile), "password": "密码 pw", **common},
        {"op": "header", "expect": dict(expect, lot="2"), **common},
        {"op": "verify", "spki": sbe1.spki_b64(keys.other), "signature": signature, **common},
    ])
    assert header["ok"] and header["chunk_size"] == chunk_size
    assert unwrapped == {"ok": True, "dek": base64.b64encode(dek).decode()}
    for o in (opened, opened_bytes):
        assert o["ok"], o
        assert o["form"] == FORM and o["tender"] == "TND-2026-001"
        assert [(f["name"], f["size"], f["sha256"], f["data_sha256"]) for f in o["files"]] == \
            [(n, len(d), sha(d), sha(d)) for n, d in bid_files.items()]
    assert verified == {"ok": True, "valid": True}
    assert tampered_sig == {"ok": True, "valid": False}
    assert wrong_expect["ok"] is False and wrong_expect["code"] == "header_mismatch_lot"
    sbe1.verify_envelope(keys.bidder.public_key(), out.getvalue(), js_sig["signature"])


def test_js_seals_python_opens(node, keys, tmp_path, bid_files):
    js_keyfile = tmp_path / "js-bidder.json"
    files = [{"name": n, "path": str(tmp_path / n)} for n in bid_files]
    envelope = tmp_path / "js.sbe1"
    gen = node.one({"op": "keygen", "out": str(js_keyfile), "password": "pw", "iterations": FAST_ITERATIONS,
                    "label": "JS key"})
    assert gen["ok"], gen
    sealed, signed = node.run([
        {"op": "seal", "form": FORM, "files": files, "tender": "T-9", "lot": "L-3", "bidder": "ORG-7",
         "bidder_spki": gen["spki"], "opening_spki": sbe1.spki_b64(keys.opening), "chunk_size": 4096,
         "out": str(envelope)},
        {"op": "sign", "keyfile": str(js_keyfile), "password": "pw", "envelope": str(envelope)},
    ])
    assert sealed["ok"] and signed["ok"], (sealed, signed)
    data = envelope.read_bytes()
    assert sealed["sha256"] == sha(data) and sealed["size"] == len(data)
    payload = sum(len(d) for d in bid_files.values())
    assert sealed["progress_done"] > payload and sealed["progress_calls"] == -(-sealed["progress_done"] // 4096)

    js_key = sbe1.read_key_file(js_keyfile.read_bytes(), "pw")
    assert js_key.key_id == gen["key_id"] and js_key.label == "JS key"
    header = sbe1.parse_header(data)
    assert header.line.decode() == sealed["header_line"]
    sbe1.check_header(header, tender="T-9", lot="L-3", bidder="ORG-7", bidder_key_id=gen["key_id"],
                      opening_key_id=sbe1.key_id(keys.opening))
    assert sbe1.verify_envelope(gen["spki"], data, signed["signature"]) == hashlib.sha256(data).digest()

    for key in (js_key.private_key, keys.opening):
        sinks: dict[str, io.BytesIO] = {}
        opened = sbe1.open_envelope(io.BytesIO(data), private_key=key,
                                    open_sink=lambda e, sinks=sinks: sinks.setdefault(e.name, io.BytesIO()))
        assert opened.manifest.form == FORM
        assert {n: s.getvalue() for n, s in sinks.items()} == bid_files
    assert sbe1.unwrap_dek(header, js_key.private_key) == sbe1.unwrap_dek(header, keys.opening)


def test_key_files_both_ways(node, keys, tmp_path):
    py_file = write_key_file(tmp_path / "py.json", keys.bidder, "Caf\u00e9 密码", label="采购 Python")
    js_file = tmp_path / "js.json"
    from_py, wrong, info, made = node.run([
        {"op": "readKeyFile", "keyfile": str(py_file), "password": "Cafe\u0301 密码"},  # NFD: same after NFC
        {"op": "readKeyFile", "keyfile": str(py_file), "password": "cafe 密码"},
        {"op": "keyFileInfo", "keyfile": str(py_file)},
        {"op": "keygen", "out": str(js_file), "password": "Cafe\u0301", "iterations": FAST_ITERATIONS, "label": "标签"},
    ])
    assert from_py["ok"] and from_py["key_id"] == sbe1.key_id(keys.bidder) and from_py["label"] == "采购 Python"
    pkcs8_key = sbe1.keys.load_private_key_pkcs8(base64.b64decode(from_py["pkcs8"]))
    assert pkcs8_key.private_numbers() == keys.bidder.private_numbers()
    assert wrong["ok"] is False and wrong["code"] == "keyfile_password"
    assert info == {"ok": True, "key_id": sbe1.key_id(keys.bidder), "spki": sbe1.spki_b64(keys.bidder),
                    "label": "采购 Python", "iterations": FAST_ITERATIONS}

    text = js_file.read_bytes()
    assert text == dumps(json.loads(text)) + b"\n"
    kf = sbe1.read_key_file(text, "Caf\u00e9")
    assert kf.key_id == made["key_id"] and sbe1.spki_b64(kf.private_key) == made["spki"] and kf.label == "标签"
    with pytest.raises(sbe1.KeyFileError) as err:
        sbe1.read_key_file(text, "Cafe")
    assert err.value.code == "keyfile_password"


def test_shares_python_encrypts_js_decrypts(node, keys, tmp_path):
    custodians = [sbe1.generate_private_key() for _ in range(3)]
    keyfiles = [write_key_file(tmp_path / f"c{i}.json", k, f"pw{i}") for i, k in enumerate(custodians)]
    opening = sbe1.create_opening_key([c.public_key() for c in custodians], threshold=2)
    share_files = []
    for i, container in enumerate(opening.shares):
        share_files.append(tmp_path / f"share{i}.json")
        share_files[-1].write_bytes(dumps(container))
    envelope = tmp_path / "bid.sbe1"
    (tmp_path / "plain.bin").write_bytes(b"sealed before the deadline")
    ops = [{"op": "decryptShare", "share": str(share_files[i]), "keyfile": str(keyfiles[i]), "password": f"pw{i}"}
           for i in range(3)]
    ops.append({"op": "decryptShare", "share": str(share_files[0]), "keyfile": str(keyfiles[1]), "password": "pw1"})
    ops.append({"op": "sealRaw", "plaintext": str(tmp_path / "plain.bin"), "piece": 5, "tender": "T", "lot": "L",
                "bidder": "B", "bidder_spki": sbe1.spki_b64(keys.bidder),
                "opening_spki": base64.b64encode(opening.public_spki).decode(), "chunk_size": 8,
                "out": str(envelope)})
    *shares, wrong, sealed = node.run(ops)
    assert all(s["ok"] for s in shares), shares
    assert wrong["ok"] is False and wrong["code"] == "not_a_recipient"
    assert sealed["ok"], sealed
    for i, s in enumerate(shares):
        assert s["json"].encode() == sbe1.decrypt_share(opening.shares[i], custodians[i]).to_json_bytes()
    released = [sbe1.parse_released_share(s["json"]) for s in shares]
    opening_key = sbe1.combine_released(released[1:])
    assert sbe1.key_id(opening_key) == opening.key_id
    data = envelope.read_bytes()
    dek = sbe1.unwrap_dek(sbe1.parse_header(data), opening_key, "opening")
    assert b"".join(sbe1.decrypt(io.BytesIO(data), dek)) == b"sealed before the deadline"


def _variants(s) -> dict[str, bytes]:
    chunks = s.chunk_offsets()
    d = s.data
    i = d.index(b'"lot":"L-1"') + 9
    flip = bytearray(d)
    flip[chunks[2][0] + 5] ^= 4
    (a0, a1), (b0, b1) = chunks[1], chunks[2]
    return {
        "ok": d,
        "header_byte": d[:i] + b"2" + d[i + 1:],
        "chunk_byte": bytes(flip),
        "drop_final": d[: chunks[-1][0]],
        "cut_in_tag": d[: chunks[-1][0] + 10],
        "cut_mid_chunk": d[: chunks[-1][0] + 30],
        "appended": d + d[chunks[0][0]: chunks[0][1]],
        "swapped": d[:a0] + d[b0:b1] + d[a0:a1] + d[b1:],
        "bad_magic": b"SBE2" + d[4:],
        "not_canonical": d.replace(b'"v":1', b'"v":01', 1),
    }


def test_error_parity_on_tampered_envelopes(node, seal_bytes, tmp_path):
    s = seal_bytes(bytes(range(200)) * 3, chunk_size=64)
    variants = _variants(s)
    ops, python_codes = [], {}
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
        ops.append({"op": "decryptRaw", "envelope": str(tmp_path / name), "dek": base64.b64encode(s.dek).decode(),
                    "out": str(tmp_path / f"{name}.out")})
        try:
            assert b"".join(sbe1.decrypt(io.BytesIO(data), s.dek)) == bytes(range(200)) * 3
            python_codes[name] = "ok"
        except sbe1.SBE1Error as exc:
            python_codes[name] = exc.code
    js_codes = {name: ("ok" if r["ok"] else r["code"]) for name, r in zip(variants, node.run(ops), strict=True)}
    assert python_codes == js_codes
    assert python_codes == {"ok": "ok", "header_byte": "chunk_auth_failed", "chunk_byte": "chunk_auth_failed",
                            "drop_final": "missing_final_chunk", "cut_in_tag": "truncated",
                            "cut_mid_chunk": "chunk_auth_failed", "appended": "chunk_auth_failed",
                            "swapped": "chunk_auth_failed", "bad_magic": "bad_magic",
                            "not_canonical": "header_not_canonical"}
    assert (tmp_path / "ok.out").read_bytes() == bytes(range(200)) * 3


@pytest.mark.parametrize("size", [0, 1, 63, 64, 128, 1000])
def test_edge_sizes_both_ways(node, keys, seal_bytes, tmp_path, size):
    plain = os.urandom(size)
    (tmp_path / "plain.bin").write_bytes(plain)
    py = seal_bytes(plain, chunk_size=64)
    (tmp_path / "py.sbe1").write_bytes(py.data)
    js_env = tmp_path / "js.sbe1"
    sealed, decrypted = node.run([
        {"op": "sealRaw", "plaintext": str(tmp_path / "plain.bin"), "piece": 7, "tender": "T", "lot": "L",
         "bidder": "B", "bidder_spki": sbe1.spki_b64(keys.bidder), "opening_spki": sbe1.spki_b64(keys.opening),
         "chunk_size": 64, "out": str(js_env)},
        {"op": "decryptRaw", "envelope": str(tmp_path / "py.sbe1"), "dek": base64.b64encode(py.dek).decode(),
         "out": str(tmp_path / "py.out")},
    ])
    assert sealed["ok"] and decrypted["ok"], (sealed, decrypted)
    assert (tmp_path / "py.out").read_bytes() == plain
    data = js_env.read_bytes()
    header = sbe1.parse_header(data)
    chunks = max(1, -(-size // 64))
    assert len(data) == header.size + size + 16 * chunks == len(py.data) - len(py.header.line) + len(header.line)
    assert b"".join(sbe1.decrypt(io.BytesIO(data), sbe1.unwrap_dek(header, keys.bidder))) == plain
