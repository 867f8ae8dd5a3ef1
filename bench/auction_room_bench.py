"""Benchmark (issue 18): 1,000 buyers in one live bidding room, 200 bids/s offered in the last 10 s.

    REDIS_URL=redis://127.0.0.1:6379/7 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/auction_room_bench.py [--buyers 1000] [--rate 200] [--burst 10] [--workers 2]

A real server (uvicorn, `--workers` processes, config.asgi, RedisChannelLayer) hosts the room
/ws/auctions/<trade>/. Setup (in this process, through the services, on a fresh database): a land
auction with `--buyers` qualified buyers who paid their deposits, the timed round started with a
`--countdown` (default 30 s) countdown at sandbox acceleration 1. Every buyer connects with its own
API token and gets its snapshot. When `--burst` seconds are left on the countdown, the benchmark offers
`--rate` bids/s for `--burst` seconds over the sockets of randomly chosen buyers (each offers the
current price + increment as it last saw it: most offers race and are refused as too low, as in a real
room), then stops; after the countdown has expired it offers `--late` more bids (all must be refused).

Measured: accepted bids/s; for every accepted bid the time from its acceptance (the server's `at`) to
its arrival at each client, p50/p95/p99 over all deliveries and "bid reaching all clients" (max over
clients) per bid; every client checks that bid events arrive in order (seq +1, stream ids gapless);
lost deliveries (accepted bids a client never got); bids accepted after expiry (from the database: every
bid's time < the deadline before it, none of the late offers accepted); audit events appended per second
during the burst. Targets: p99 bid-to-all-clients < 500 ms, 0 lost or reordered, 0 accepted after expiry.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import time
from datetime import timedelta
from decimal import Decimal

os.environ["SANDBOX_TIME_ACCELERATION"] = "1"
os.environ.setdefault("CHANNELS_PREFIX", f"bench{os.getpid()}")
if not os.environ.get("REDIS_URL"):
    raise SystemExit("set REDIS_URL (e.g. redis://127.0.0.1:6379/7): this benchmark measures the Redis layer")
import _django  # noqa: E402

KIND = _django.setup("auction_room_bench")

from _opening import Server, percentile  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils.timezone import now as django_now  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

START = Decimal("1000000.00")
BENCH_PASSWORD = os.environ.get("BENCH_PASSWORD", "bench-" + str(os.getpid()) + "-pw")
INCREMENT = Decimal("1000.00")


def session_for(user) -> str:
    """A logged-in session for `user` (the room authenticates browser sessions), its cookie value."""
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def setup(n: int, countdown: int):
    """A land auction with n paid, qualified buyers; returns (trade, [(buyer number, token)])."""
    import sbe1
    from accounts.models import User, UserRole
    from accounts.services import organisation_create, user_create
    from accounts.uscc import make_uscc
    from auctions.models import Trade
    from auctions.reserve import seal_reserve
    from auctions.rules import rules_for
    from auctions.services.buyers import buyer_apply, buyer_review, deposit_arrival_book
    from auctions.services.trades import trade_create, trade_publish, trade_reserve_seal
    from trading import clock
    from trading.bids.keys import key_register

    def uscc(n: int) -> str:
        return make_uscc(f"9133010071{n:07d}")

    agent_org = organisation_create(actor="system", name="Bench Agent", uscc=uscc(1))
    seller = organisation_create(actor="system", name="Bench Land Bureau", uscc=uscc(2))
    agent = user_create(actor="system", username="agent", password=BENCH_PASSWORD, organisation=agent_org,
                        roles=["agent", "custodian"])
    transferor = user_create(actor="system", username="seller", password=BENCH_PASSWORD, organisation=seller,
                             roles=["tenderer"])
    for name, roles in (("agent", None), ("sup", ["supervisor", "custodian"]), ("plat", ["platform_admin",
                                                                                       "custodian"])):
        user = agent if roles is None else user_create(actor="system", username=name, password=BENCH_PASSWORD,
                                                       roles=roles)
        key_register(actor=user, public_key=sbe1.spki_b64(sbe1.generate_private_key()), holder="custodian")
    settings.SANDBOX_TIME_ACCELERATION = 1_000_000  # only to publish now with a 20-day notice
    starts = rules_for("land_auction").notice_to_start.after(clock.now()) + timedelta(seconds=5)
    trade = trade_create(actor=agent, kind="land_auction", title="Bench parcel", transferor=seller,
                         start_price=START, increment=INCREMENT, deposit_amount="1000.00", starts_at=starts,
                         countdown_seconds=countdown)
    trade = trade_reserve_seal(actor=transferor, trade=trade, sealed=seal_reserve(
        reserve="1000000.00", trade=str(trade.public_id), opening_key=trade.opening_public_spki))
    trade = trade_publish(actor=agent, trade=trade)
    settings.SANDBOX_TIME_ACCELERATION = 1
    out = []
    for i in range(n):
        org = organisation_create(actor="system", name=f"Bench Buyer {i}", uscc=uscc(100 + i),
                                  basic_account_number=f"62220000{i:08d}", address=f"{i} Bench Road")
        # Setup only (not measured): no password hashing for 1,000 users.
        user = User(username=f"b{i}", organisation=org)
        user.set_unusable_password()
        user.save()
        UserRole.objects.create(user=user, role="bidder")
        docs = [{"name": "l.pdf", "size": 1, "sha256": "a" * 64}]
        buyer = buyer_apply(actor=user, trade=trade, documents=docs)
        buyer_review(actor=agent, buyer=buyer, qualified=True)
        deposit_arrival_book(account_number=buyer.deposit_account, amount="1000.00",
                             payer_account=org.basic_account_number, txn_id=f"B{i}")
        buyer.refresh_from_db()
        out.append((buyer.number, session_for(user)))
    # Setup only: the start moves an hour out while the buyers connect (the room would otherwise start,
    # and close, a round whose scheduled start passed during the set-up); main() sets the real start.
    Trade.objects.filter(pk=trade.pk).update(starts_at=django_now() + timedelta(hours=1))
    return Trade.objects.get(pk=trade.pk), out


class Client:
    def __init__(self, number: str, token: str) -> None:
        self.number, self.token = number, token
        self.last_id = 0
        self.last_seq = 0
        self.price = None
        self.arrivals: dict[int, float] = {}
        self.accepted_at: dict[int, float] = {}
        self.gaps = self.reorders = 0
        self.pending: dict[int, asyncio.Future] = {}
        self.ref = 0

    async def run(self, url: str, port: int, gate: asyncio.Semaphore, ready: list) -> None:
        async with gate:
            cookie = f"{settings.SESSION_COOKIE_NAME}={self.token}"
            self.ws = await connect(url, origin=f"http://127.0.0.1:{port}", open_timeout=120, max_queue=None,
                                    additional_headers={"Cookie": cookie}, compression=None,
                                    ping_interval=None)
            snap = json.loads(await self.ws.recv())
            assert snap["type"] == "snapshot", snap
            self.last_id, self.last_seq = snap["last_id"], snap["state"]["bid_count"]
            self.price = snap["state"]["price"]
        ready.append(self)
        try:
            async for raw in self.ws:
                now = time.time()
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind in ("event", "redacted"):
                    if msg["id"] != self.last_id + 1:
                        self.gaps += 1
                    self.last_id = msg["id"]
                    if msg.get("kind") == "bid":
                        p = msg["payload"]
                        if p["seq"] != self.last_seq + 1:
                            self.reorders += 1
                        self.last_seq = p["seq"]
                        self.price = p["amount"]
                        self.arrivals[p["seq"]] = now
                        from datetime import datetime

                        self.accepted_at[p["seq"]] = datetime.fromisoformat(p["at"]).timestamp()
                elif kind in ("ack", "error") and msg.get("ref") in self.pending:
                    self.pending.pop(msg["ref"]).set_result(msg)
        except Exception:  # noqa: S110 - closed at the end of the run
            pass

    async def offer(self, steps: int = 1) -> dict:
        self.ref += 1
        amount = str((Decimal(self.price) + steps * INCREMENT) if self.price else START)
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.ref] = fut
        try:
            await self.ws.send(json.dumps({"type": "bid", "ref": self.ref, "amount": amount, "key": ""}))
        except Exception:  # a closed socket: counted as such
            return {"type": "closed"}
        try:
            return await asyncio.wait_for(fut, 30)
        except TimeoutError:
            return {"type": "timeout"}


def db_checks(trade_pk: int, late_from: float) -> dict:
    from auctions.models import Bid, Trade

    trade = Trade.objects.get(pk=trade_pk)
    bids = list(Bid.objects.filter(trade=trade).order_by("seq"))
    after_expiry = 0
    deadline = trade.round_started_at + timedelta(seconds=trade.countdown_seconds)
    for b in bids:
        if b.accepted_at >= deadline:
            after_expiry += 1
        deadline = b.ends_at
    late = sum(1 for b in bids if b.accepted_at.timestamp() >= late_from)
    return {"bids": len(bids), "after_expiry": after_expiry, "late_accepted": late, "status": trade.status,
            "closed_at": trade.closed_at, "last_ends_at": bids[-1].ends_at if bids else None}


def audit_count() -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.count()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="bids offered per second")
    parser.add_argument("--burst", type=float, default=10.0, help="seconds of offers before the deadline")
    parser.add_argument("--countdown", type=int, default=30)
    parser.add_argument("--late", type=int, default=50, help="offers after expiry")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jump", type=int, default=1,
                        help="each offer is the price last seen + k increments, k uniform in 1..jump "
                             "(jump bids are valid; > 1 makes far more offers win: the fan-out stress case)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.buyers + 1024)), hard))
    t_setup = time.perf_counter()
    trade, creds = await asyncio.to_thread(setup, args.buyers, args.countdown)
    print(f"{KIND}, Redis layer; {_django.machine()}; {args.buyers} buyers, {args.rate:g} bids/s offered for "
          f"{args.burst:g} s (jump 1..{args.jump} increments), countdown {args.countdown} s, {args.workers} uvicorn "
          f"workers; "
          f"setup {time.perf_counter() - t_setup:.0f} s")
    with Server(workers=args.workers, settings="config.settings",
                env={"SANDBOX_TIME_ACCELERATION": "1"}) as server:
        url = f"ws://127.0.0.1:{server.port}/ws/auctions/{trade.public_id}/"
        clients = [Client(n, t) for n, t in creds]
        ready: list[Client] = []
        gate = asyncio.Semaphore(args.connect_concurrency)
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(c.run(url, server.port, gate, ready)) for c in clients]
        while len(ready) < len(clients):
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed:
                raise failed[0].exception()
            if time.perf_counter() - t0 > 600:
                raise SystemExit(f"only {len(ready)} clients connected in 600 s")
            await asyncio.sleep(0.1)
        print(f"{len(ready)} buyers connected with their snapshot in {time.perf_counter() - t0:.1f} s")
        # The round starts at starts_at (the sweep's job; here: advance once it is due).
        from auctions.models import Trade
        from auctions.services.bidding import trade_advance

        pk = trade.pk
        # The round starts 2 s from now, whatever the connections took (setup only: the start is
        # moved before it is due, directly in the database, then the real `trade_advance` starts it).
        await asyncio.to_thread(lambda: Trade.objects.filter(pk=pk).update(
            starts_at=django_now() + timedelta(seconds=2)))
        while True:
            trade = await asyncio.to_thread(lambda: trade_advance(trade=Trade.objects.get(pk=pk)))
            if trade.status == "timed":
                break
            await asyncio.sleep(0.2)
        # Wait for the last `burst` seconds of the countdown.
        await asyncio.sleep(max(0.0, trade.ends_at.timestamp() - args.burst - time.time()))
        audit_before = await asyncio.to_thread(audit_count)
        results: list[asyncio.Task] = []
        burst_start = time.time()
        n_offers = int(args.rate * args.burst)
        for i in range(n_offers):
            client = clients[rng.randrange(len(clients))]
            results.append(asyncio.create_task(client.offer(rng.randint(1, args.jump))))
            await asyncio.sleep(max(0.0, burst_start + (i + 1) / args.rate - time.time()))
        burst_end = time.time()
        replies = await asyncio.gather(*results)
        audit_after = await asyncio.to_thread(audit_count)
        accepted = sum(1 for r in replies if r.get("type") == "ack")
        refused: dict[str, int] = {}
        for r in replies:
            if r.get("type") != "ack":
                refused[r.get("code", r.get("type"))] = refused.get(r.get("code", r.get("type")), 0) + 1
        # Let the countdown expire, then offer late bids.
        final = await asyncio.to_thread(lambda: Trade.objects.get(pk=trade.pk))
        await asyncio.sleep(max(0.0, final.ends_at.timestamp() - time.time()) + 0.5)
        late_from = time.time()
        late = await asyncio.gather(*[clients[rng.randrange(len(clients))].offer() for _ in range(args.late)])
        late_codes: dict[str, int] = {}
        for r in late:
            late_codes[r.get("code", r.get("type"))] = late_codes.get(r.get("code", r.get("type")), 0) + 1
        await asyncio.sleep(5)
        checks = await asyncio.to_thread(db_checks, trade.pk, late_from)
        for c in clients:
            await c.ws.close()
        for t in tasks:
            t.cancel()
        rss = server.peak_rss_mb()
    seqs = set()
    for c in clients:
        seqs |= set(c.arrivals)
    deliveries, per_bid_all = [], {}
    lost = 0
    for seq in seqs:
        at = next(c.accepted_at[seq] for c in clients if seq in c.accepted_at)
        worst = 0.0
        for c in clients:
            if seq not in c.arrivals:
                lost += 1
                continue
            d = c.arrivals[seq] - at
            deliveries.append(d)
            worst = max(worst, d)
        per_bid_all[seq] = worst
    reorders = sum(c.reorders for c in clients)
    gaps = sum(c.gaps for c in clients)
    burst = burst_end - burst_start
    print(f"offers {n_offers} in {burst:.1f} s: accepted {accepted} ({accepted / burst:.1f}/s), refused {refused}")
    print(f"bids in the database {checks['bids']}; delivered to every client: {len(seqs)} distinct; "
          f"lost deliveries {lost}, reordered {reorders}, stream id gaps seen {gaps}")
    if deliveries:
        print(f"bid → client: p50 {percentile(deliveries, 50) * 1000:.0f} ms, p95 "
              f"{percentile(deliveries, 95) * 1000:.0f} ms, p99 {percentile(deliveries, 99) * 1000:.0f} ms, "
              f"max {max(deliveries) * 1000:.0f} ms; bid → all clients: p50 "
              f"{percentile(list(per_bid_all.values()), 50) * 1000:.0f} ms, p99 "
              f"{percentile(list(per_bid_all.values()), 99) * 1000:.0f} ms, max "
              f"{max(per_bid_all.values()) * 1000:.0f} ms; {len(deliveries) / burst:,.0f} deliveries/s")
    print(f"after expiry: {args.late} late offers → {late_codes}; accepted after the running deadline "
          f"{checks['after_expiry']}, late accepted {checks['late_accepted']}; trade {checks['status']}")
    print(f"audit events appended during the burst: {audit_after - audit_before} "
          f"({(audit_after - audit_before) / burst:.1f}/s); server peak RSS {rss:.0f} MB")
    p99_all = percentile(list(per_bid_all.values()), 99) if per_bid_all else float("nan")
    ok = (lost == 0 and reorders == 0 and checks["after_expiry"] == 0 and checks["late_accepted"] == 0
          and checks["bids"] == len(seqs) and p99_all < 0.5)
    print("RESULT", "OK" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
