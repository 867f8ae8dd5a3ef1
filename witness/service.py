"""The witness: C2SP tlog-witness `add-checkpoint` over HTTP, cosigning with tlog-cosignature/v1.

A stand-alone process (`python -m witness serve --config FILE`) run by someone other than the
platform operator (the supervision bureau, a notary). It never touches the platform's
database and imports nothing of the platform's domain: only the RFC 6962 verification in
audit/merkle.py, a pure-Python module without Django. Protocol, storage and key handling:
docs/witness.md.

Order of checks on `POST <prefix>/add-checkpoint` (C2SP tlog-witness):
  400 malformed body, or old size > checkpoint size, or more than 63 proof lines;
  404 the checkpoint's origin is not a configured log;
  403 no signature by the configured log key verifies;
  409 old size != the size this witness last cosigned for the origin (body: that size and a
      newline, Content-Type text/x.tlog.size), or the same size with another root hash;
  422 the consistency proof from the stored checkpoint to the new one does not verify;
  200 the cosignature line(s), text/plain; charset=utf-8, after the new checkpoint is stored.
Steps from the 409 check to storing the new checkpoint run in one SQLite write transaction.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import merkle  # pure RFC 6962 code, no Django (see its docstring)
from witness import notes
from witness.store import Store

logger = logging.getLogger("witness")

MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024
SIZE_TYPE = "text/x.tlog.size"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass
class Response:
    status: int
    body: str
    content_type: str = TEXT_TYPE


@dataclass
class Config:
    name: str
    key_file: Path
    database: Path
    logs: dict[str, notes.Verifier] = field(default_factory=dict)  # origin -> log key
    prefix: str = ""
    listen: str = "127.0.0.1:0"

    @classmethod
    def load(cls, path: str | Path) -> Config:
        """A JSON file: {"name", "key_file", "database", "prefix"?, "listen"?, "logs": [{"origin", "key"}]}.
        Relative paths are relative to the file's directory."""
        path = Path(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        base = path.parent

        def resolve(value: str) -> Path:
            p = Path(value)
            return p if p.is_absolute() else base / p

        logs = {}
        for entry in data.get("logs", []):
            verifier = notes.parse_vkey(entry["key"])
            if verifier.kind != notes.SIG_ED25519:
                raise notes.NoteError(f"the key of log {entry['origin']} is not an Ed25519 note key (0x01)")
            logs[str(entry["origin"])] = verifier
        return cls(name=str(data["name"]), key_file=resolve(data["key_file"]), database=resolve(data["database"]),
                   logs=logs, prefix=str(data.get("prefix", "")).rstrip("/"),
                   listen=str(data.get("listen", "127.0.0.1:0")))


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The witness's Ed25519 key (PKCS#8 PEM, mode 0600), generated on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            with contextlib.suppress(FileExistsError):  # another process may have won the race
                os.link(tmp, path)  # atomic
        finally:
            tmp.unlink(missing_ok=True)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"{path} does not hold an Ed25519 private key")
    return key


class BadRequest(Exception):
    pass


def parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """(old size, consistency proof hashes, signed checkpoint note) of an add-checkpoint body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("the body is not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise BadRequest("no empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old "):
        raise BadRequest("the first line is not 'old <size>'")
    size = first[4:]
    if not size.isascii() or not size.isdigit() or (size != "0" and size[0] == "0"):
        raise BadRequest("the old size is not a decimal without leading zeros")
    proof = []
    for line in lines[1:]:
        try:
            value = base64.b64decode(line, validate=True)
        except binascii.Error as exc:
            raise BadRequest("a consistency proof line is not base64") from exc
        if len(value) != merkle.HASH_SIZE:
            raise BadRequest("a consistency proof line is not a 32-byte hash")
        proof.append(value)
    if len(proof) > MAX_PROOF_LINES:
        raise BadRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    return int(size), proof, note


class Witness:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.key = load_or_create_key(config.key_file)
        self.store = Store(config.database)
        public = self.key.public_key().public_bytes_raw()
        self.verifier = notes.Verifier(config.name, public, notes.SIG_COSIGNATURE_V1)

    @property
    def vkey(self) -> str:
        return self.verifier.vkey

    def add_checkpoint(self, body: bytes, *, now: int | None = None) -> Response:
        try:
            old, proof, note = parse_request(body)
            text, signatures = notes.split_note(note)
            checkpoint = notes.parse_checkpoint(text)
        except (BadRequest, notes.NoteError) as exc:
            return Response(HTTPStatus.BAD_REQUEST, f"{exc}\n")
        log_key = self.config.logs.get(checkpoint.origin)
        if log_key is None:
            return Response(HTTPStatus.NOT_FOUND, f"unknown log origin {checkpoint.origin!r}\n")
        if not notes.verify_signed_by(text, signatures, log_key):
            return Response(HTTPStatus.FORBIDDEN, "no valid signature by the log's trusted key\n")
        if old > checkpoint.size:
            return Response(HTTPStatus.BAD_REQUEST, "the old size is larger than the checkpoint's size\n")
        refusal: Response | None = None
        with self.store.transaction() as db:  # check and persist atomically
            latest = self.store.latest(db, checkpoint.origin)
            size, root = latest if latest is not None else (0, merkle.EMPTY_ROOT)
            if old != size:
                return Response(HTTPStatus.CONFLICT, f"{size}\n", SIZE_TYPE)
            if old == checkpoint.size and root != checkpoint.root:
                refusal = Response(HTTPStatus.CONFLICT, f"{size}\n", SIZE_TYPE)
            else:
                try:
                    merkle.verify_consistency(old, checkpoint.size, root, checkpoint.root, proof)
                except merkle.ProofError as exc:
                    refusal = Response(HTTPStatus.UNPROCESSABLE_ENTITY, f"consistency proof: {exc}\n")
            if refusal is None:
                timestamp = int(time.time()) if now is None else now
                line = notes.cosign(text, name=self.config.name, key=self.key, timestamp=timestamp)
                self.store.record_cosigned(db, origin=checkpoint.origin, size=checkpoint.size,
                                           root=checkpoint.root, timestamp=timestamp, note=note, cosignature=line)
        if refusal is not None:  # a correctly signed checkpoint that contradicts what was cosigned
            reason = "fork: another root at the cosigned size" if refusal.status == 409 else refusal.body.strip()
            logger.warning("refused %s at size %s (old %s): %s", checkpoint.origin, checkpoint.size, old, reason)
            self.store.record_refused(origin=checkpoint.origin, old=old, size=checkpoint.size,
                                      status=refusal.status, reason=reason, note=note)
            return refusal
        logger.info("cosigned %s at size %s", checkpoint.origin, checkpoint.size)
        return Response(HTTPStatus.OK, line)


class _Handler(BaseHTTPRequestHandler):
    server: WitnessHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the protocol recommends

    def _send(self, response: Response) -> None:
        data = response.body.encode("utf-8")
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        witness = self.server.witness
        if self.path != f"{witness.config.prefix}/add-checkpoint":
            self._send(Response(HTTPStatus.NOT_FOUND, "not found\n"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(Response(HTTPStatus.LENGTH_REQUIRED, "Content-Length required\n"))
            return
        if not 0 <= length <= MAX_BODY:
            self._send(Response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large\n"))
            return
        self._send(witness.add_checkpoint(self.rfile.read(length)))

    def do_GET(self) -> None:  # noqa: N802
        witness = self.server.witness
        if self.path == f"{witness.config.prefix}/" or self.path == f"{witness.config.prefix}/witness":
            logs = [{"origin": origin, "size": size, "checkpoint": note, "cosigned_at": at}
                    for origin, size, note, at in witness.store.latest_all()]
            body = json.dumps({"name": witness.config.name, "verifier_key": witness.vkey,
                               "logs": logs}, ensure_ascii=False, indent=1) + "\n"
            self._send(Response(HTTPStatus.OK, body, "application/json"))
            return
        self._send(Response(HTTPStatus.NOT_FOUND, "not found\n"))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s " + format, self.address_string(), *args)


class WitnessHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, witness: Witness, host: str, port: int) -> None:
        self.witness = witness
        super().__init__((host, port), _Handler)


def serve(config: Config, *, host: str | None = None, port: int | None = None,
          ready: threading.Event | None = None) -> WitnessHTTPServer:
    """Bind the HTTP server (not yet serving: call serve_forever())."""
    default_host, _, default_port = config.listen.rpartition(":")
    server = WitnessHTTPServer(Witness(config), host or default_host or "127.0.0.1",
                               int(default_port or 0) if port is None else port)
    if ready is not None:
        ready.set()
    return server
