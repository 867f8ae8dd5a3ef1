"""The witness service over real HTTP: C2SP tlog-witness status codes and tlog-cosignature/v1."""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tests.witness.fixtures import ToyLog, free_port, post, running_witness

ROOT = Path(__file__).resolve().parents[2]


def verify_cosignature(line: str, body: str, name: str, public: bytes) -> int:
    """An independent few-line check of a C2SP tlog-cosignature/v1 Ed25519 line; returns its time."""
    assert line.startswith("\u2014 ") and line.endswith("\n")
    sig_name, encoded = line[2:-1].rsplit(" ", 1)
    blob = base64.b64decode(encoded)
    assert sig_name == name and len(blob) == 4 + 8 + 64
    assert blob[:4] == hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    timestamp = struct.unpack(">Q", blob[4:12])[0]
    message = b"cosignature/v1\ntime %d\n" % timestamp + body.encode()
    Ed25519PublicKey.from_public_bytes(public).verify(blob[12:], message)  # raises if invalid
    return timestamp


@pytest.fixture
def log() -> ToyLog:
    return ToyLog()


@pytest.fixture
def witness(tmp_path, log):
    with running_witness(tmp_path / "w", [(log.origin, log.vkey)]) as (url, w):
        yield url + "/add-checkpoint", w


def public_of(w) -> bytes:
    return w.key.public_key().public_bytes_raw()


def test_first_cosignature_from_zero_then_consistent_growth(witness, log):
    url, w = witness
    before = int(time.time())
    status, ctype, body = post(url, log.request(0, 5))
    assert (status, ctype) == (200, "text/plain; charset=utf-8")
    assert verify_cosignature(body, log.body(5), "witness.test/w1", public_of(w)) >= before
    status, _, body = post(url, log.request(5, 13))
    assert status == 200
    verify_cosignature(body, log.body(13), "witness.test/w1", public_of(w))
    # the same checkpoint again (old = size, same root, empty proof) is cosigned again
    status, _, body = post(url, log.request(13, 13))
    assert status == 200
    # the witness's verifier key names type 0x04 and the key ID of the cosignature lines
    name, key_id, encoded = w.vkey.split("+", 2)
    assert name == "witness.test/w1" and base64.b64decode(encoded) == b"\x04" + public_of(w)
    assert bytes.fromhex(key_id) == base64.b64decode(body[2:-1].rsplit(" ", 1)[1])[:4]


def test_rollback_is_409_with_latest_size(witness, log):
    url, _ = witness
    assert post(url, log.request(0, 20))[0] == 200
    # a log rolled back to 12 that believes the witness never saw it
    status, ctype, body = post(url, log.request(0, 12))
    assert (status, ctype, body) == (409, "text/x.tlog.size", "20\n")
    # or that claims the witness last cosigned 12
    status, ctype, body = post(url, log.request(12, 12))
    assert (status, ctype, body) == (409, "text/x.tlog.size", "20\n")


def test_fork_at_the_same_size_is_409(witness, log):
    url, _ = witness
    assert post(url, log.request(0, 20))[0] == 200
    fork = ToyLog(origin=log.origin, key=log.key, tag=b"forged ")
    status, ctype, body = post(url, fork.request(20, 20))
    assert (status, ctype, body) == (409, "text/x.tlog.size", "20\n")


def test_bad_proof_is_422_and_nothing_changes(witness, log, tmp_path):
    url, _ = witness
    assert post(url, log.request(0, 8))[0] == 200
    # a fork after size 8: consistent-looking proof of another tree
    fork = ToyLog(origin=log.origin, key=log.key, leaves=30)
    fork.leaves[:8] = [b"\x11" * 32] * 8
    status, _, _ = post(url, fork.request(8, 30))
    assert status == 422
    proof = log.proof(8, 30)
    proof[0] = bytes(32)
    assert post(url, log.request(8, 30, proof=proof))[0] == 422
    assert post(url, log.request(8, 30, proof=log.proof(8, 30)[:-1]))[0] == 422
    # the stored state is still size 8
    assert post(url, log.request(0, 30))[1:] == ("text/x.tlog.size", "8\n")
    db = sqlite3.connect(tmp_path / "w" / "witness.sqlite3")
    assert [r[0] for r in db.execute("SELECT status FROM refused ORDER BY id")] == [422, 422, 422]


def test_unknown_origin_is_404(witness):
    other = ToyLog(origin="other.test/log")
    assert post(witness[0], other.request(0, 3))[0] == 404


def test_bad_signature_is_403(witness, log):
    url, _ = witness
    wrong = Ed25519PrivateKey.generate()
    assert post(url, log.request(0, 3, note=log.note(3, key=wrong)))[0] == 403
    # a valid signature by an unknown key, under the log's name, is ignored: still 403
    impostor = ToyLog(origin=log.origin)
    assert post(url, impostor.request(0, 3))[0] == 403
    # nothing was cosigned
    assert post(url, log.request(0, 3))[0] == 200


def test_malformed_requests_are_400(witness, log):
    url, _ = witness
    note = log.note(5).encode()
    assert post(url, b"old 05\n\n" + note)[0] == 400
    assert post(url, b"new 0\n\n" + note)[0] == 400
    assert post(url, b"old 0\nnot base64!\n\n" + note)[0] == 400
    assert post(url, log.request(0, 5).replace(b"\n\n", b"\n", 1))[0] == 400
    assert post(url, log.request(7, 5, proof=[]))[0] == 400  # old size above the checkpoint's
    assert post(url, b"old 0\n\n" + log.body(5).encode())[0] == 400  # unsigned
    assert post(url, log.request(0, 5))[0] == 200


def test_prefix_and_monitoring(tmp_path, log):
    with running_witness(tmp_path / "p", [(log.origin, log.vkey)], prefix="/tlog") as (url, w):
        assert post(url + "/add-checkpoint", log.request(0, 4))[0] == 200
        assert post(url.removesuffix("/tlog") + "/add-checkpoint", log.request(4, 4))[0] == 404


def _submit_with_retries(url: str, log: ToyLog, size: int, results: list) -> None:
    old = 0
    for _ in range(50):
        status, _, body = post(url, log.request(old, size))
        if status == 409:
            old = int(body)
            if old > size:
                results.append(("rolled", size, old))
                return
            continue
        results.append((status, size, old))
        return


def test_concurrent_submissions_cannot_roll_it_back(tmp_path, log):
    """Two witness processes on one database, 24 clients racing with sizes in any order: the
    stored size only grows, and every cosigned size was consistent with the one before."""
    log = ToyLog(leaves=64)
    directory = tmp_path / "c"
    with running_witness(directory, [(log.origin, log.vkey)]):
        pass  # writes the configuration, key and database
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ports = [free_port()]
    procs = [subprocess.Popen([  # noqa: S603
        sys.executable, "-m", "witness", "serve", "--config", str(directory / "witness.json"),
                               "--host", "127.0.0.1", "--port", str(ports[0])], cwd=ROOT, env=env,
                              stderr=subprocess.DEVNULL)]
    try:
        _wait_port(ports[0])
        ports.append(free_port())
        procs.append(subprocess.Popen([  # noqa: S603
            sys.executable, "-m", "witness", "serve", "--config",
                                       str(directory / "witness.json"), "--host", "127.0.0.1", "--port",
                                       str(ports[1])], cwd=ROOT, env=env, stderr=subprocess.DEVNULL))
        _wait_port(ports[1])
        sizes = [3, 60, 17, 41, 8, 64, 25, 33, 12, 50, 5, 29, 61, 44, 19, 2, 38, 55, 9, 47, 63, 22, 31, 58]
        results: list = []
        threads = [threading.Thread(target=_submit_with_retries,
                                    args=(f"http://127.0.0.1:{ports[i % 2]}/add-checkpoint", log, s, results))
                   for i, s in enumerate(sizes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    assert len(results) == len(sizes)
    assert all(r[0] in (200, "rolled") for r in results), results
    db = sqlite3.connect(directory / "witness.sqlite3")
    history = [size for (size,) in db.execute("SELECT size FROM cosigned ORDER BY id")]
    assert history == sorted(history) and history[-1] == 64
    assert {r[1] for r in results if r[0] == 200} == set(history)
    assert db.execute("SELECT size FROM latest").fetchone() == (64,)
    # and the database itself refuses a rollback of the latest size
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE latest SET size = 3")


def _wait_port(port: int) -> None:
    import socket

    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"witness did not start on {port}")
