"""Audit log benchmark: append rate with 8 concurrent writers, and verify rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/audit_bench.py

Targets (issue 2): append >= 1,000 events/s with 8 writers on PostgreSQL;
verify >= 100,000 events/s read from the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import threading
import time

import _django

KIND = _django.setup("audit_bench")

from django.db import connection, transaction  # noqa: E402

from audit.canonical import dumps, format_timestamp  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from audit.selectors import chain_verify  # noqa: E402
from audit.services import GENESIS_PREV, audit_record  # noqa: E402


def bench_append(writers: int, per_writer: int) -> dict:
    barrier = threading.Barrier(writers + 1)
    latencies: list[float] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        mine = []
        barrier.wait()
        for i in range(per_writer):
            t0 = time.perf_counter()
            with transaction.atomic():
                audit_record(actor=str(n), action="bench.appended", obj=f"trading.tender:{n}",
                             data={"i": i, "tender": n, "envelope_sha256": hashlib.sha256(b"%d" % i).hexdigest()})
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
        connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    total = writers * per_writer
    latencies.sort()
    return {"events": total, "seconds": elapsed, "rate": total / elapsed,
            "p50_ms": statistics.median(latencies) * 1000, "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000}


def fill_chain(count: int) -> None:
    """Append a valid synthetic chain quickly (bulk insert), continuing the existing head."""
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = last if last else (0, GENESIS_PREV)
    base = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    batch = []
    for _ in range(count):
        seq += 1
        ts = base + dt.timedelta(microseconds=seq)
        data = {"tender": seq % 500, "lot": seq % 7, "envelope_sha256": hashlib.sha256(b"%d" % seq).hexdigest(),
                "size": 1048576 + seq}
        body = {"seq": seq, "ts": format_timestamp(ts), "actor": str(seq % 97), "action": "bid.submitted",
                "object": f"trading.bid:{seq}", "data": data, "prev": prev}
        h = hashlib.sha256(b"\x00" + dumps(body)).hexdigest()
        batch.append(AuditEvent(seq=seq, ts=ts, actor=body["actor"], action=body["action"], object=body["object"],
                                data=data, prev=prev, hash=h))
        prev = h
        if len(batch) == 5000:
            AuditEvent.objects.bulk_create(batch)
            batch.clear()
    if batch:
        AuditEvent.objects.bulk_create(batch)


def bench_verify() -> dict:
    started = time.perf_counter()
    report = chain_verify()
    elapsed = time.perf_counter() - started
    assert report.ok, report
    return {"events": report.checked, "seconds": elapsed, "rate": report.checked / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=500)
    parser.add_argument("--verify-events", type=int, default=300_000)
    args = parser.parse_args()
    print(f"# audit bench on {KIND}, {_django.machine()}, {dt.date.today()}")
    append = bench_append(args.writers, args.per_writer)
    print(f"append: {append['events']} events by {args.writers} writers in {append['seconds']:.2f} s = "
          f"{append['rate']:,.0f} events/s (one transaction each; p50 {append['p50_ms']:.1f} ms, "
          f"p95 {append['p95_ms']:.1f} ms)")
    fill_chain(max(0, args.verify_events - AuditEvent.objects.count()))
    verify = bench_verify()
    print(f"verify: {verify['events']:,} events in {verify['seconds']:.2f} s = {verify['rate']:,.0f} events/s")


if __name__ == "__main__":
    main()
