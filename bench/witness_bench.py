"""Checkpoint signing with its consistency check, and the witness round trip, at 1,000,000 events.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/witness_bench.py

On a dedicated, freshly migrated database (bench/_django.py):
  1. COPY a valid synthetic chain of --events events into AuditEvent, fill the Merkle node store,
     sign a checkpoint and have it cosigned by a witness (`python -m witness serve`, a separate
     process on 127.0.0.1:--port with its own SQLite file): the state a running platform is in;
  2. --rounds times: append --step events (untimed, COPY), then time
       a) `checkpoint_create()`: node store fill of the new events (re-hashing their chain),
          consistency proof from the previous checkpoint and its verification, Ed25519 signature,
          the row;
       b) `checkpoint_witness()`: consistency proof from the size the witness last cosigned,
          HTTP add-checkpoint, the witness's check (signature, proof, atomic SQLite update,
          cosignature), checking and storing the returned cosignature;
     and prints p50 / max of a, b and a + b.
Target (issue 14): under 1 s at 1,000,000 events.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _django

KIND = _django.setup("witness_bench")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from audit import checkpoints, witnessing  # noqa: E402
from audit.canonical import dumps, format_timestamp  # noqa: E402
from audit.models import WitnessCosignature  # noqa: E402
from audit.services import GENESIS_PREV  # noqa: E402
from audit.signing import platform_verifier_key  # noqa: E402


def rows(start: int, count: int, prev: str):
    base = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    for seq in range(start, start + count):
        ts = format_timestamp(base + dt.timedelta(microseconds=seq * 7))
        data = {"tender": seq % 500, "lot": seq % 7, "envelope_sha256": hashlib.sha256(b"%d" % seq).hexdigest()}
        body = {"seq": seq, "ts": ts, "actor": str(seq % 97), "action": "bid.submitted",
                "object": f"trading.bid:{seq}", "data": data, "prev": prev}
        digest = hashlib.sha256(b"\x00" + dumps(body)).hexdigest()
        yield seq, ts, body["actor"], body["action"], body["object"], dumps(data).decode(), prev, digest
        prev = digest


def append(start: int, count: int, prev: str, batch: int = 100_000) -> str:
    """COPY events start..start+count-1 after `prev`; returns the new head hash."""
    generator = rows(start, count, prev)
    head = prev
    with connection.cursor() as cursor:
        while True:
            chunk = [r for _, r in zip(range(batch), generator, strict=False)]
            if not chunk:
                break
            head = chunk[-1][-1]
            text = "".join("\t".join(str(v) for v in r) + "\n" for r in chunk)
            cursor.cursor.copy_expert("COPY audit_auditevent (seq, ts, actor, action, object, data, prev, hash) "
                                      "FROM STDIN", io.StringIO(text))
    return head


def start_witness(directory: Path, port: int) -> tuple[subprocess.Popen, str]:
    vkey = platform_verifier_key()
    init = subprocess.run([sys.executable, "-m", "witness", "init", "--dir", str(directory),  # noqa: S603
                           "--name", "witness.bench/w1", "--log", f"{settings.AUDIT_LOG_ORIGIN}={vkey}"],
                          cwd=_django.ROOT, capture_output=True, text=True, check=True)
    proc = subprocess.Popen([sys.executable, "-m", "witness", "serve", "--config",  # noqa: S603
                             str(directory / "witness.json"), "--host", "127.0.0.1", "--port", str(port)],
                            cwd=_django.ROOT, stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, init.stdout.strip()
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the witness did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--step", type=int, default=1000, help="events between two checkpoints")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--port", type=int, default=18220)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("set DATABASE_URL to a PostgreSQL database")
    print(f"{_django.machine()}; {KIND}")
    started = time.perf_counter()
    head = append(1, args.events, GENESIS_PREV)
    print(f"inserted {args.events:,} events in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    started = time.perf_counter()
    checkpoints.nodes_fill()
    first = checkpoints.checkpoint_create()
    print(f"node store + first checkpoint at {first.tree_size:,}: {time.perf_counter() - started:.1f} s")
    directory = Path(tempfile.mkdtemp(prefix="witness-bench-"))
    proc, wkey = start_witness(directory, args.port)
    try:
        settings.AUDIT_WITNESSES = [(wkey, f"http://127.0.0.1:{args.port}")]
        settings.AUDIT_WITNESS_QUORUM = 1
        assert witnessing.checkpoint_witness(tree_size=first.tree_size) == 1, "first cosignature missing"
        size = args.events
        sign_ms, witness_ms, total_ms = [], [], []
        for _ in range(args.rounds):
            head = append(size + 1, args.step, head)
            size += args.step
            t0 = time.perf_counter()
            checkpoint = checkpoints.checkpoint_create()
            t1 = time.perf_counter()
            count = witnessing.checkpoint_witness(tree_size=checkpoint.tree_size)
            t2 = time.perf_counter()
            assert checkpoint.tree_size == size and count == 1, (checkpoint.tree_size, count)
            sign_ms.append((t1 - t0) * 1000)
            witness_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
        cos = WitnessCosignature.objects.order_by("-checkpoint__tree_size").first()
        assert cos is not None and cos.checkpoint.tree_size == size
    finally:
        proc.terminate()
        proc.wait(10)
    figures = {name: {"p50": statistics.median(v), "max": max(v)}
               for name, v in (("sign", sign_ms), ("witness", witness_ms), ("total", total_ms))}
    for name, f in figures.items():
        print(f"{name}: p50 {f['p50']:.1f} ms, max {f['max']:.1f} ms over {args.rounds} checkpoints "
              f"(+{args.step} events each, log ~{args.events:,})")
    print(json.dumps(figures))


if __name__ == "__main__":
    os.environ.setdefault("PTRADE_WITNESS_TIMEOUT", "10")
    main()
