"""The command-line client end to end (in process), including `submit` against a local server."""

from __future__ import annotations

import base64
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import sbe1
from sbe1.canonical import dumps
from sbe1.cli import main

from .conftest import FAST_ITERATIONS


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def field(out: str, name: str) -> str:
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith(f"{name}: "))


@pytest.fixture
def bidder_keyfile(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SBE1_PASSWORD", "bidder-pw")
    path = tmp_path / "bidder.key.json"
    code, out, _ = run(capsys, "keygen", "--out", path, "--label", "ACME", "--iterations", FAST_ITERATIONS)
    assert code == 0
    assert "bidder-pw" not in out
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    return path, field(out, "key_id"), field(out, "public_key")


def test_bidder_workflow(tmp_path, capsys, monkeypatch, keys, bidder_keyfile):
    keyfile, kid, spki = bidder_keyfile
    assert sbe1.read_key_file(keyfile.read_bytes(), "bidder-pw").key_id == kid == sbe1.key_id(spki)
    code, out, _ = run(capsys, "key-info", keyfile)
    assert (code, field(out, "key_id"), field(out, "label")) == (0, kid, "ACME")

    (tmp_path / "form.json").write_text(json.dumps({"price": "99.50", "currency": "CNY", "duration_days": 30}))
    (tmp_path / "tech.pdf").write_bytes(os.urandom(5000))
    (tmp_path / "opening.b64").write_text(sbe1.spki_b64(keys.opening) + "\n")
    envelope = tmp_path / "bid.sbe1"
    code, out, err = run(capsys, "seal", "--key", keyfile, "--opening-key", f"@{tmp_path / 'opening.b64'}",
                         "--tender", "T-1", "--lot", "L-1", "--bidder", "ORG-1", "--form", tmp_path / "form.json",
                         "--out", envelope, "--chunk-size", 1024, tmp_path / "tech.pdf")
    assert code == 0, err
    assert field(out, "sha256") == sbe1.envelope_sha256(envelope.read_bytes()).hex()
    assert not list(tmp_path.glob(".*partial*"))

    code, out, _ = run(capsys, "sign", "--key", keyfile, "--out", tmp_path / "bid.sig", envelope)
    signature = out.strip()
    assert code == 0 and (tmp_path / "bid.sig").read_text().strip() == signature
    sbe1.verify_envelope(spki, envelope.read_bytes(), signature)
    assert run(capsys, "verify-signature", "--public-key", spki, "--signature", signature, envelope)[0] == 0
    assert run(capsys, "verify-signature", "--key", keyfile, "--signature", f"@{tmp_path / 'bid.sig'}",
               envelope)[0] == 0
    code, _, err = run(capsys, "verify-signature", "--public-key", sbe1.spki_b64(keys.other),
                       "--signature", signature, envelope)
    assert code == 1 and "[bad_signature]" in err

    code, out, _ = run(capsys, "verify-header", "--tender", "T-1", "--lot", "L-1", "--bidder", "ORG-1",
                       "--bidder-key-id", kid, "--opening-key-id", sbe1.key_id(keys.opening), envelope)
    assert code == 0 and out.strip().endswith("header OK")
    code, _, err = run(capsys, "verify-header", "--tender", "T-2", envelope)
    assert code == 1 and "header_mismatch_tender" in err

    code, out, _ = run(capsys, "decrypt-dek", "--key", keyfile, envelope)
    dek = out.strip()
    assert code == 0 and base64.b64decode(dek) == sbe1.unwrap_dek(sbe1.parse_header(envelope.read_bytes()),
                                                                  keys.opening)
    code, out, err = run(capsys, "decrypt", "--dek", dek, "--out", tmp_path / "opened", envelope)
    assert code == 0, err
    assert (tmp_path / "opened" / "tech.pdf").read_bytes() == (tmp_path / "tech.pdf").read_bytes()
    assert json.loads(out[: out.rindex("}") + 1])["form"]["price"] == "99.50"
    assert [p.name for p in (tmp_path / "opened").iterdir()] == ["tech.pdf"]
    # again into the same directory: refused, nothing half-written left behind
    code, _, err = run(capsys, "decrypt", "--key", keyfile, "--out", tmp_path / "opened", envelope)
    assert code == 1 and "exists" in err
    assert [p.name for p in (tmp_path / "opened").iterdir()] == ["tech.pdf"]

    monkeypatch.setenv("SBE1_PASSWORD", "Xq-guess-77")
    code, out, err = run(capsys, "decrypt-dek", "--key", keyfile, envelope)
    assert code == 1 and "keyfile_password" in err and "Xq-guess-77" not in out + err


def test_decrypt_refuses_tampered_envelope_and_leaves_nothing(tmp_path, capsys, keys, bidder_keyfile):
    keyfile, _, _ = bidder_keyfile
    (tmp_path / "form.json").write_text("{}")
    (tmp_path / "a.bin").write_bytes(os.urandom(3000))
    env = tmp_path / "bid.sbe1"
    assert run(capsys, "seal", "--key", keyfile, "--opening-key", sbe1.spki_b64(keys.opening), "--tender", "T",
               "--lot", "L", "--bidder", "B", "--form", tmp_path / "form.json", "--out", env, "--chunk-size", 1000,
               tmp_path / "a.bin")[0] == 0
    data = bytearray(env.read_bytes())
    data[-5] ^= 1
    env.write_bytes(bytes(data))
    code, _, err = run(capsys, "decrypt", "--key", keyfile, "--out", tmp_path / "out", env)
    assert code == 1 and "chunk_auth_failed" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_seal_refuses_float_prices(tmp_path, capsys, keys, bidder_keyfile):
    keyfile, _, _ = bidder_keyfile
    (tmp_path / "form.json").write_text('{"price": 99.5}')
    code, _, err = run(capsys, "seal", "--key", keyfile, "--opening-key", sbe1.spki_b64(keys.opening),
                       "--tender", "T", "--lot", "L", "--bidder", "B", "--form", tmp_path / "form.json",
                       "--out", tmp_path / "x.sbe1")
    assert code == 1 and "bad_form" in err and not (tmp_path / "x.sbe1").exists()


def test_custodian_shares(tmp_path, capsys, monkeypatch, keys):
    custodians = [sbe1.generate_private_key() for _ in range(3)]
    opening = sbe1.create_opening_key([c.public_key() for c in custodians])
    released = []
    for i, custodian in enumerate(custodians):
        keyfile = tmp_path / f"c{i}.json"
        keyfile.write_bytes(sbe1.write_key_file(custodian, f"pw{i}", iterations=FAST_ITERATIONS))
        (tmp_path / f"share{i}.json").write_bytes(dumps(opening.shares[i]))
        (tmp_path / f"pw{i}").write_text(f"pw{i}\n")
        code, out, err = run(capsys, "decrypt-share", "--key", keyfile, "--password-file", tmp_path / f"pw{i}",
                             "--out", tmp_path / f"released{i}.json", tmp_path / f"share{i}.json")
        assert code == 0, err
        released.append(tmp_path / f"released{i}.json")
        assert json.loads(out)["x"] == i + 1
    env = tmp_path / "bid.sbe1"
    with env.open("wb") as f:
        sbe1.seal_bid({"price": "1"}, [("a.txt", b"hello")], f, tender="T", lot="L", bidder="B",
                      bidder_key=keys.bidder.public_key(), opening_key=opening.public_spki)
    code, _, err = run(capsys, "decrypt", "--share", released[0], "--share", released[2], "--out", tmp_path / "o", env)
    assert code == 0, err
    assert (tmp_path / "o" / "a.txt").read_bytes() == b"hello"
    code, _, err = run(capsys, "decrypt", "--share", released[1], "--out", tmp_path / "o2", env)
    assert code == 1 and "shamir_too_few" in err


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        ok = self.headers["Authorization"] == "Token tok-123"
        self.send_response(201 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"receipt": "r"} if ok else {"detail": "bad token"}).encode())

    def log_message(self, *args: object) -> None:
        pass


def test_submit(tmp_path, capsys, monkeypatch, keys, bidder_keyfile):
    keyfile, _, spki = bidder_keyfile
    env = tmp_path / "bid.sbe1"
    with env.open("wb") as f:
        sbe1.seal(b"x" * 5000, f, tender="T 1/2", lot="L", bidder="B", bidder_key=spki,
                  opening_key=keys.opening.public_key())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/prefix/"
        (tmp_path / "token").write_text("tok-123\n")
        code, out, err = run(capsys, "submit", "--url", base, "--tender", "T 1/2", "--lot", "L", "--key", keyfile,
                             "--token-file", tmp_path / "token", env)
        assert code == 0, err
        assert json.loads(out) == {"receipt": "r"} and "tok-123" not in out + err
        monkeypatch.setenv("SBE1_TOKEN", "nope")
        code, _, err = run(capsys, "submit", "--url", base, "--tender", "T", "--lot", "L", "--signature", "AAAA", env)
        assert code == 1 and "HTTP 401" in err
    finally:
        server.shutdown()
    first = _Recorder.requests[0]
    assert first["path"] == "/prefix/api/v1/tenders/T%201%2F2/lots/L/bids"
    assert first["body"] == env.read_bytes()
    assert first["headers"]["Content-Type"] == "application/octet-stream"
    assert first["headers"]["Authorization"] == "Token tok-123"
    sbe1.verify_envelope(spki, first["body"], first["headers"]["X-Envelope-Signature"])
    assert run(capsys, "submit", "--url", "ftp://x", "--tender", "T", "--lot", "L", "--signature", "A", env)[0] == 1


def test_module_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sbe1", "--help"], capture_output=True, text=True,  # noqa: S603
                          cwd=Path(__file__).parents[2], check=False)
    assert proc.returncode == 0
    for command in ("keygen", "seal", "sign", "verify-header", "decrypt-dek", "decrypt", "decrypt-share", "submit"):
        assert command in proc.stdout
