"""Benchmark (a): 200 bidders upload 1 MB envelopes in the last minute before the deadline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bid_upload_bench.py

A real server (uvicorn, config.asgi, on 127.0.0.1) receives the uploads through the
public endpoint (POST /api/v1/tenders/<t>/lots/<l>/bids, token auth, detached signature),
exactly as `python -m sbe1 submit` sends them. The uploads are spread over the last
`--window` seconds before a deadline set by server time; `--late` more arrive in the
second after it. Checks: every upload sent before the deadline is accepted with a
received_at before it, every one after is refused (deadline_passed), the database holds
exactly the accepted bids. Prints throughput and latency percentiles.

The legal 20-day minimum between publication and deadline is shortened with the sandbox
acceleration factor (SANDBOX_TIME_ACCELERATION, refused in production) so that a
deadline a minute away can be published.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

os.environ.setdefault("SANDBOX_TIME_ACCELERATION", "100000")
os.environ.setdefault("SANDBOX_ROOM_ACCELERATION", "100000")  # the opening windows too, as before issue 16
import _django  # noqa: E402

KIND = _django.setup("bid_upload_bench")

from _opening import Server, make_bidders, make_tender, percentile  # noqa: E402
from django.utils import timezone  # noqa: E402

import sbe1  # noqa: E402
from trading.models import Bid, BidStatus  # noqa: E402


def seal(tender, lot, bidder, key, size: int) -> tuple[bytes, str]:
    out = io.BytesIO()
    payload = random.randbytes(size - 1200)  # the envelope is about `size` bytes
    sbe1.seal_bid({"price": f"{random.randint(1_000_000, 9_000_000)}.00", "delivery_days": 30},
                  [("bid.bin", payload)], out, tender=str(tender.pk), lot=str(lot.pk),
                  bidder=str(bidder.organisation_id), bidder_key=sbe1.spki_der(key),
                  opening_key=lot.opening_key.public_spki)
    data = out.getvalue()
    return data, sbe1.sign_envelope(key, data)


def post(port: int, path: str, body: bytes, token: str, signature: str) -> tuple[int, dict, float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    sent = time.time()
    t0 = time.perf_counter()
    conn.request("POST", path, body=body, headers={
        "Authorization": f"Token {token}", "X-Envelope-Signature": signature,
        "Content-Type": "application/octet-stream", "Content-Length": str(len(body))})
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - t0
    conn.close()
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        body = {"error": {"code": f"http_{response.status}", "message": data[:200].decode("utf-8", "replace")}}
    return response.status, body, elapsed, sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bidders", type=int, default=200)
    parser.add_argument("--size", type=int, default=1024 * 1024)
    parser.add_argument("--window", type=float, default=60.0, help="seconds before the deadline")
    parser.add_argument("--late", type=int, default=20, help="uploads sent in the second after the deadline")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--threads", type=int, default=48, help="client threads (concurrent uploads at most)")
    args = parser.parse_args()

    total = args.bidders + args.late
    setup_started = time.time()
    bidders = make_bidders(total)
    lead = timedelta(seconds=args.window + 25 + total * 0.05)  # registration, sealing, server start
    tender, lot, _ = make_tender(bidders=bidders, deadline_in=lead,
                                 max_envelope_bytes=max(4 * 1024 * 1024, 2 * args.size))
    envelopes = [seal(tender, lot, user, key, args.size) for user, key, _ in bidders]
    deadline = tender.bid_deadline.timestamp()
    print(f"{KIND}; {_django.machine()}; set-up {time.time() - setup_started:.1f} s; "
          f"{args.bidders} uploads of {len(envelopes[0][0]):,} bytes in the last {args.window:.0f} s, "
          f"{args.late} in the second after the deadline; uvicorn workers={args.workers}")
    path = f"/api/v1/tenders/{tender.pk}/lots/{lot.pk}/bids"
    start = deadline - args.window
    plan = [start + args.window * (i + random.random()) / args.bidders for i in range(args.bidders)]
    plan = [min(t, deadline - 0.15) for t in plan]  # the last one is sent 150 ms before the deadline
    plan += [deadline + 0.001 + random.random() for _ in range(args.late)]
    results: list[tuple[int, int, dict, float, float]] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        delay = plan[i] - time.time()
        if delay > 0:
            time.sleep(delay)
        user, key, token = bidders[i]
        body, signature = envelopes[i]
        status, data, elapsed, sent = post(server.port, path, body, token, signature)
        with lock:
            results.append((i, status, data, elapsed, sent))

    with Server(workers=args.workers) as server:
        if time.time() > start:
            raise SystemExit("set-up took longer than the lead time; rerun with fewer bidders")
        from audit.signing import platform_key_id

        platform_key_id()  # the platform signing key exists before the server signs receipts
        for _ in range(8 * args.workers):  # warm every worker up (imports, database connections)
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", f"/api/v1/lots/{lot.pk}/opening-key")
            conn.getresponse().read()
            conn.close()
        print(f"server on 127.0.0.1:{server.port}; waiting {start - time.time():.1f} s for the window")
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(run, range(total)))
        peak = server.peak_rss_mb()

    ok = [r for r in results if r[1] == 201]
    refused = [r for r in results if r[1] != 201]
    early_ok = [r for r in ok if r[0] < args.bidders]
    late_ok = [r for r in ok if r[0] >= args.bidders]
    late_refused = [r for r in refused if r[0] >= args.bidders and r[2]["error"]["code"] == "deadline_passed"]
    bids = list(Bid.objects.filter(lot=lot, status=BidStatus.ACTIVE))
    all_before = all(b.received_at < tender.bid_deadline for b in bids)
    lat = [r[3] for r in early_ok]
    span = max(r[4] + r[3] for r in early_ok) - min(r[4] for r in early_ok)
    mb = sum(len(envelopes[r[0]][0]) for r in early_ok) / 1e6
    print(f"accepted before the deadline: {len(early_ok)}/{args.bidders}; accepted after: {len(late_ok)}; "
          f"refused after (deadline_passed): {len(late_refused)}/{args.late}; other refusals: "
          f"{[r[2] for r in refused if r[0] < args.bidders][:3]}")
    print(f"database: {len(bids)} active bids, all received_at < deadline: {all_before}; "
          f"latest received_at {max(b.received_at for b in bids).isoformat()} vs deadline "
          f"{tender.bid_deadline.isoformat()}")
    print(f"latency per upload: p50 {percentile(lat, 50) * 1000:.0f} ms, p95 {percentile(lat, 95) * 1000:.0f} ms, "
          f"max {max(lat) * 1000:.0f} ms; throughput {len(early_ok) / span:.2f} uploads/s, {mb / span:.1f} MB/s "
          f"over {span:.1f} s (the arrival rate; see --window); server peak RSS per process {peak:.0f} MB")
    ok_all = (len(early_ok) == args.bidders and not late_ok and len(late_refused) == args.late
              and all_before and len(bids) == args.bidders)
    print("RESULT", "OK" if ok_all else "FAILED", timezone.now().isoformat())
    raise SystemExit(0 if ok_all else 1)


if __name__ == "__main__":
    main()
