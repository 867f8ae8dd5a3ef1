"""A real witness server for tests, and a toy log that signs its own checkpoints.

The toy log deliberately builds its notes with a few lines of its own (not witness.notes), so
the witness is tested against an independent reading of the C2SP formats.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import merkle
from witness.service import Config, serve

PORTS = range(18200, 18300)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18200-18299")


class ToyLog:
    def __init__(self, origin: str = "log.test/audit", leaves: int = 40, key: Ed25519PrivateKey | None = None,
                 tag: bytes = b"") -> None:
        self.origin = origin
        self.key = key or Ed25519PrivateKey.generate()
        self.leaves = [merkle.leaf_hash(tag + b"event %d" % i) for i in range(leaves)]

    @property
    def public(self) -> bytes:
        return self.key.public_key().public_bytes_raw()

    def key_id(self) -> bytes:
        return hashlib.sha256(self.origin.encode() + b"\n\x01" + self.public).digest()[:4]

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(b"\x01" + self.public).decode()
        return f"{self.origin}+{self.key_id().hex()}+{encoded}"

    def body(self, size: int) -> str:
        root = merkle.root_from_leaves(self.leaves[:size])
        return f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"

    def note(self, size: int, key: Ed25519PrivateKey | None = None) -> str:
        body = self.body(size)
        sig = base64.b64encode(self.key_id() + (key or self.key).sign(body.encode())).decode()
        return f"{body}\n\u2014 {self.origin} {sig}\n"

    def proof(self, old: int, size: int) -> list[bytes]:
        return merkle.consistency_proof_from_leaves(old, self.leaves[:size])

    def request(self, old: int, size: int, *, proof: list[bytes] | None = None, note: str | None = None) -> bytes:
        lines = [f"old {old}"] + [base64.b64encode(h).decode() for h in (self.proof(old, size) if proof is None
                                                                          else proof)]
        return ("\n".join(lines) + "\n\n" + (note or self.note(size))).encode()


def post(url: str, body: bytes) -> tuple[int, str, str]:
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - loopback http
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


@contextmanager
def running_witness(directory: Path, logs: list[tuple[str, str]], *, name: str = "witness.test/w1",
                    prefix: str = "") -> Iterator[tuple[str, object]]:
    """(base URL ending before /add-checkpoint, the Witness) of a witness served in a thread."""
    directory.mkdir(parents=True, exist_ok=True)
    config_file = directory / "witness.json"
    config_file.write_text(json.dumps({
        "name": name, "key_file": "key.pem", "database": "witness.sqlite3", "prefix": prefix,
        "logs": [{"origin": origin, "key": vkey} for origin, vkey in logs]}))
    # Port 0: the kernel picks a free port at bind time (a port picked earlier and bound later can be
    # taken by a concurrent run in between: "Address already in use").
    server = serve(Config.load(config_file), host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}", server.witness
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def platform_witnesses(tmp_path: Path, settings, count: int = 1, *, quorum: int = 1,
                       log_key: str | None = None) -> Iterator[list[tuple[str, object]]]:
    """`count` witnesses of the platform's own log (its origin and signing key, or `log_key`),
    configured in settings.AUDIT_WITNESSES; yields [(base URL, Witness)]."""
    from audit.signing import platform_verifier_key

    vkey = log_key or platform_verifier_key()
    with contextlib.ExitStack() as stack:
        running = [stack.enter_context(running_witness(tmp_path / f"w{i}", [(settings.AUDIT_LOG_ORIGIN, vkey)],
                                                       name=f"witness{i}.test/w"))
                   for i in range(count)]
        settings.AUDIT_WITNESSES = [(w.vkey, url) for url, w in running]
        settings.AUDIT_WITNESS_QUORUM = quorum
        yield running
