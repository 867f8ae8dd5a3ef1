"""Merkle proofs and offline verification at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/merkle_bench.py

On a dedicated, freshly migrated database (bench/_django.py), it:
  1. bulk-inserts a valid synthetic chain of --events events into AuditEvent (COPY on
     PostgreSQL, bulk_create on SQLite): real canonical JSON, real leaf hashes and links;
  2. fills the Merkle node store from those events (`nodes_fill`, what the checkpoint task
     does for a log it has never seen) and signs a checkpoint;
  3. times inclusion and consistency proofs at that size through the selectors the API
     uses (`audit.checkpoints`), and through the HTTP API in-process (Django test client);
  4. exports the whole-log bundle and one tender's bundle, and runs the stand-alone
     verifier on each as a subprocess (events/s);
  5. times `audit verify` (chain + Merkle roots of every kept checkpoint).
Target (issue 4): a proof at 1,000,000 events in under 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _django

KIND = _django.setup("merkle_bench")

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from audit import checkpoints, export  # noqa: E402
from audit.canonical import dumps, format_timestamp  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from audit.services import GENESIS_PREV, audit_record  # noqa: E402
from audit.signing import platform_verifier_key  # noqa: E402

VERIFIER = _django.ROOT / "audit" / "verifier" / "ptrade_audit_verify.py"
TENDERS = 500


def synthetic_rows(count: int):
    """(seq, ts, actor, action, object, data json, prev, hash) of a valid chain."""
    prev = GENESIS_PREV
    base = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    for seq in range(1, count + 1):
        ts = format_timestamp(base + dt.timedelta(microseconds=seq * 7))
        data = {"tender": seq % TENDERS, "lot": seq % 7, "size": 1048576 + seq,
                "envelope_sha256": hashlib.sha256(b"%d" % seq).hexdigest()}
        body = {"seq": seq, "ts": ts, "actor": str(seq % 97), "action": "bid.submitted",
                "object": f"trading.bid:{seq}", "data": data, "prev": prev}
        digest = hashlib.sha256(b"\x00" + dumps(body)).hexdigest()
        yield seq, ts, body["actor"], body["action"], body["object"], dumps(data).decode(), prev, digest
        prev = digest


def insert_chain(count: int, batch: int = 100_000) -> None:
    rows = synthetic_rows(count)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg2 cursor: COPY (the synthetic data has no tab, newline or backslash)
            while True:
                chunk = [r for _, r in zip(range(batch), rows, strict=False)]
                if not chunk:
                    break
                text = "".join("\t".join(str(v) for v in r) + "\n" for r in chunk)
                raw.copy_expert("COPY audit_auditevent (seq, ts, actor, action, object, data, prev, hash) "
                                "FROM STDIN", io.StringIO(text))
            cursor.execute("ANALYZE audit_auditevent")
        return
    import json

    pending = []
    for seq, ts, actor, action, obj, data, prev, digest in rows:
        when = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
        pending.append(AuditEvent(seq=seq, ts=when, actor=actor, action=action, object=obj,
                                  data=json.loads(data), prev=prev, hash=digest))
        if len(pending) == 5000:
            AuditEvent.objects.bulk_create(pending)
            pending.clear()
    AuditEvent.objects.bulk_create(pending)


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def latencies(fn, samples: list) -> dict:
    times = []
    for sample in samples:
        started = time.perf_counter()
        fn(sample)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"n": len(times), "p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1],
            "max": times[-1]}


def show(label: str, figures: dict) -> None:
    print(f"{label}: {figures['n']} requests, p50 {figures['p50']:.2f} ms, p95 {figures['p95']:.2f} ms, "
          f"max {figures['max']:.2f} ms")


def run_verifier(bundle: Path) -> float:
    """Seconds the verifier takes, process start included."""
    command = [sys.executable, "-I", str(VERIFIER), str(bundle), "--key", platform_verifier_key()]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"verifier failed: {result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=500)
    parser.add_argument("--http", type=int, default=200)
    args = parser.parse_args()
    n = args.events
    rng = random.Random(2026)
    print(f"# merkle bench on {KIND}, {_django.machine()}, {dt.date.today()}, {n:,} events")

    _, seconds = timed(insert_chain, n)
    print(f"setup: synthetic valid chain of {n:,} events bulk-inserted in {seconds:.1f} s")
    prefix, seconds = timed(checkpoints.nodes_fill)
    print(f"node store fill: {prefix:,} leaves ({prefix - prefix.bit_count():,} nodes) in {seconds:.1f} s "
          f"= {n / seconds:,.0f} events/s")
    checkpoint, seconds = timed(checkpoints.checkpoint_create)
    print(f"checkpoint: size {checkpoint.tree_size:,} signed in {seconds * 1000:.1f} ms "
          "(first checkpoint: the whole chain re-hashed from the events)")
    # Signing with the consistency check (docs/audit.md, "Signing"): the signed prefix anchored
    # by its root, every earlier signed root proved consistent, the new events re-hashed and
    # re-chained, and a consistency proof from the node store checked against both roots.
    for grown in (1, 1000):
        for i in range(grown):
            audit_record(actor="system", action="bench.event", obj=f"bench.thing:{i}", data={"i": i})
        signed, seconds = timed(checkpoints.checkpoint_create)
        print(f"checkpoint with consistency check: size {signed.tree_size:,} ({grown:,} new events) "
              f"signed in {seconds * 1000:.1f} ms")
    _, seconds = timed(checkpoints.checkpoint_create)
    print(f"checkpoint of an unchanged log (all checks, no new signature): {seconds * 1000:.1f} ms")
    n = checkpoints.log_size()

    seqs = [rng.randrange(1, n + 1) for _ in range(args.proofs)]
    show(f"inclusion proof at size {n:,} (selector)",
         latencies(lambda s: checkpoints.inclusion_proof(seq=s, tree_size=n), seqs))
    firsts = [rng.randrange(1, n) for _ in range(args.proofs)]
    show(f"consistency proof to size {n:,} (selector)",
         latencies(lambda f: checkpoints.consistency_proof(first=f, second=n), firsts))
    client = Client()

    def http_inclusion(seq: int) -> None:
        response = client.get("/api/v1/audit/proofs/inclusion", {"seq": seq})
        assert response.status_code == 200, response.content

    show("inclusion proof through GET /api/v1/audit/proofs/inclusion",
         latencies(http_inclusion, seqs[: args.http]))

    workdir = Path(tempfile.mkdtemp(prefix="merkle-bench-"))
    bundle_path = workdir / "log.jsonl"
    with bundle_path.open("wb") as out:
        bundle, seconds = timed(export.bundle_write, out)
    size_mb = bundle_path.stat().st_size / 1e6
    print(f"export whole log: {bundle.event_count:,} events, {size_mb:,.0f} MB in {seconds:.1f} s "
          f"= {bundle.event_count / seconds:,.0f} events/s")
    seconds = run_verifier(bundle_path)
    print(f"stand-alone verifier, whole log: {bundle.event_count / seconds:,.0f} events/s "
          f"({bundle.event_count:,} events in {seconds:.1f} s)")
    bundle_path.unlink()

    tender_path = workdir / "tender.jsonl"
    with tender_path.open("wb") as out:
        tender, seconds = timed(export.bundle_write, out, tender="42")
    print(f"export tender 42: {tender.event_count:,} events with inclusion proofs in {seconds:.1f} s")
    seconds = run_verifier(tender_path)
    print(f"stand-alone verifier, tender bundle: {tender.event_count:,} events (leaf hash + inclusion proof "
          f"each) in {seconds:.2f} s, process start included")
    tender_path.unlink()

    report, seconds = timed(checkpoints.log_verify)
    assert report.ok, report
    print(f"audit verify (chain + {report.checkpoints_checked} checkpoint roots): {report.checked:,} events "
          f"in {seconds:.1f} s = {report.checked / seconds:,.0f} events/s")


if __name__ == "__main__":
    main()
