"""Benchmark (c): 1,000 WebSocket clients in one opening room on the Redis channel layer.

    REDIS_URL=redis://127.0.0.1:6379/15 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/room_fanout_bench.py

A real server (uvicorn, one process, config.asgi, RedisChannelLayer) on 127.0.0.1 hosts
the room /ws/opening/<tender>/. `--clients` WebSocket clients (the `websockets` package,
token-authenticated like a script, the supervisor's view) connect and get their snapshot;
then the benchmark publishes `--rows` read-out rows at `--rate` rows/s through
`stream_publish` (persist, commit, push through Redis), as the opening services do, and
every client stamps each row's arrival. Delay = arrival − the moment the publishing
transaction started. Reports p50/p95/p99/max over all (client, row) pairs, deliveries/s,
and checks that every client received every row with gapless ids. Target: p99 < 1 s.
Loopback only; bounded in clients, rows and time; stops its server itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from datetime import timedelta

os.environ.setdefault("SANDBOX_TIME_ACCELERATION", "100000")
os.environ.setdefault("SANDBOX_ROOM_ACCELERATION", "100000")  # the opening windows too, as before issue 16
os.environ.setdefault("CHANNELS_PREFIX", f"bench{os.getpid()}")
if not os.environ.get("REDIS_URL"):
    raise SystemExit("set REDIS_URL (e.g. redis://127.0.0.1:6379/15): this benchmark measures the Redis layer")
import _django  # noqa: E402

KIND = _django.setup("room_fanout_bench")

from _opening import Server, make_tender, percentile  # noqa: E402
from django.db import transaction  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from accounts.tokens import token_issue  # noqa: E402
from realtime.streams import stream_publish  # noqa: E402
from trading.opening.room import room_audience, room_key  # noqa: E402


class Client:
    def __init__(self, n: int) -> None:
        self.n = n
        self.last_id = 0
        self.arrivals: dict[int, float] = {}
        self.gaps = 0

    async def run(self, url: str, token: str, port: int, connected: asyncio.Semaphore, ready: list) -> None:
        async with connected:
            self.ws = await connect(url, origin=f"http://127.0.0.1:{port}", open_timeout=60,
                                    additional_headers={"Authorization": f"Token {token}"}, compression=None)
            snapshot = json.loads(await self.ws.recv())
            assert snapshot["type"] == "snapshot"
            self.last_id = snapshot["last_id"]
        ready.append(self)
        try:
            async for raw in self.ws:
                now = time.time()
                msg = json.loads(raw)
                if msg.get("type") not in ("event", "redacted"):
                    continue
                if msg["id"] != self.last_id + 1:
                    self.gaps += 1
                self.last_id = msg["id"]
                if msg.get("kind") == "readout.row":
                    self.arrivals[msg["payload"]["entry"]["row"]] = now - msg["payload"]["entry"]["sent_at"] / 1e6
        except Exception:  # noqa: S110 - closed at the end of the run
            pass


def publish_row(tender, row: int) -> None:
    sent_at = time.time_ns() // 1000  # microseconds (canonical JSON has no floats)
    with transaction.atomic():
        stream_publish(key=room_key(tender.pk), kind="readout.row", audience=room_audience(tender), payload={
            "key": str(row), "entry": {"row": row, "sent_at": sent_at, "lot": 1, "lot_number": 1,
                                       "bidder": row, "bidder_name": f"Bench Bidder {row} 有限公司",
                                       "status": "decrypted", "items": {"price": f"{1000000 + row}.00",
                                                                        "delivery_days": 30},
                                       "outcome": None, "deposit": "paid"}})


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--rate", type=float, default=2.0, help="rows per second")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.clients + 1024)), hard))

    tender, lot, supervisor = await asyncio.to_thread(make_tender, bidders=[], deadline_in=timedelta(hours=1))
    token = await asyncio.to_thread(lambda: token_issue(user=supervisor))
    print(f"{KIND}, Redis layer; {_django.machine()}; {args.clients} clients, {args.rows} rows at {args.rate}/s")
    # The deployed settings (persistent connections): WebSocket consumers reach the database from
    # one thread per process (thread-sensitive), so one connection serves every socket.
    with Server(workers=1, settings="config.settings") as server:
        url = f"ws://127.0.0.1:{server.port}/ws/opening/{tender.pk}/"
        clients = [Client(n) for n in range(args.clients)]
        ready: list[Client] = []
        gate = asyncio.Semaphore(args.connect_concurrency)
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(c.run(url, token, server.port, gate, ready)) for c in clients]
        while len(ready) < args.clients:
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed:
                raise failed[0].exception()
            if time.perf_counter() - t0 > 300:
                raise SystemExit(f"only {len(ready)} clients connected in 300 s")
            await asyncio.sleep(0.1)
        print(f"{len(ready)} clients connected with their snapshot in {time.perf_counter() - t0:.1f} s")
        await asyncio.sleep(1.0)
        started = time.perf_counter()
        for row in range(args.rows):
            await asyncio.to_thread(publish_row, tender, row)
            await asyncio.sleep(max(0.0, started + (row + 1) / args.rate - time.perf_counter()))
        deadline = time.perf_counter() + 15
        while time.perf_counter() < deadline and any(len(c.arrivals) < args.rows for c in clients):
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        for c in clients:
            await c.ws.close()
        for t in tasks:
            t.cancel()
    delays = [d for c in clients for d in c.arrivals.values()]
    missing = args.clients * args.rows - len(delays)
    gaps = sum(c.gaps for c in clients)
    per_row_max = {}
    for c in clients:
        for row, d in c.arrivals.items():
            per_row_max[row] = max(per_row_max.get(row, 0.0), d)
    print(f"deliveries: {len(delays):,} of {args.clients * args.rows:,} (missing {missing}, id gaps {gaps}); "
          f"{len(delays) / elapsed:,.0f} deliveries/s over {elapsed:.1f} s")
    print(f"delay publish → client: p50 {percentile(delays, 50) * 1000:.0f} ms, "
          f"p95 {percentile(delays, 95) * 1000:.0f} ms, p99 {percentile(delays, 99) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms; "
          f"row reaching all clients: p50 {percentile(list(per_row_max.values()), 50) * 1000:.0f} ms, "
          f"max {max(per_row_max.values()) * 1000:.0f} ms")
    ok = missing == 0 and gaps == 0 and percentile(delays, 99) < 1.0
    print("RESULT", "OK" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
