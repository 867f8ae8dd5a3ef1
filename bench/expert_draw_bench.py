"""Expert draw benchmark: one draw with avoidance from a pool of 100,000 experts against 200 bidders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/expert_draw_bench.py

Target (expert drawing issue): < 300 ms end to end on PostgreSQL: eligibility (every avoidance query),
the commit event, sampling, saving the panel and its calls (assignments, notifications, time-out steps,
the drawn event), i.e. `experts.services.draws.draw_start` as the API calls it.

The pool: 100,000 experts with 1–3 leaf specialties each, in 11 regions; 1,200 employer organisations of
which 200 are the bidders of every benchmarked lot, each bidder with ~10 current staff and ~10 former
staff (ended 0–6 years ago); 20,000 other past employments; 1,000 declared relatives (300 at bidders);
3,000 leaves (a third overlapping the evaluation); 2.5 % suspended or banned; 30,000 past panel records
(300 experts at the same-tenderer cap). Each timed draw is for a new lot of a new tender with the same
200 registered bidders and the same evaluation time, so every draw also excludes the experts booked by
the draws before it. Composition: 7 members + 4 reserves over three specialty subtrees (A02 3+2,
A03 2+1, D01 2+1), about 35,000 candidates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import statistics
import time

import _django

KIND = _django.setup("expert_bench")

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Organisation  # noqa: E402
from accounts.roles import Role  # noqa: E402
from accounts.services import user_create  # noqa: E402
from accounts.uscc import make_uscc  # noqa: E402
from experts import avoidance  # noqa: E402
from experts.models import (  # noqa: E402
    Expert,
    ExpertEmployment,
    ExpertLeave,
    ExpertRelative,
    ExpertStatus,
    PanelRecord,
    Specialty,
)
from experts.replay import draw_replay  # noqa: E402
from experts.services.draws import draw_request, draw_sample, draw_start  # noqa: E402
from experts.specialties import specialties_load  # noqa: E402
from trading.models import Lot, Registration, Tender, TenderStatus  # noqa: E402

REGIONS = ["330102", "330106", "330110", "330200", "330300", "330400", "330500", "330600", "330700", "330800",
           "330900"]
LINES = [{"specialty": "A02", "count": 3, "reserves": 2}, {"specialty": "A03", "count": 2, "reserves": 1},
         {"specialty": "D01", "count": 2, "reserves": 1}]
BATCH = 5000


def _orgs(count: int, offset: int, prefix: str) -> list[Organisation]:
    rows = [Organisation(name=f"{prefix} {i}", uscc=make_uscc(f"91330100MA{offset + i:07d}"),
                         basic_account_number=f"6222{offset + i:012d}") for i in range(count)]
    Organisation.objects.bulk_create(rows, batch_size=BATCH)
    return list(Organisation.objects.filter(name__startswith=f"{prefix} ").order_by("pk"))


def build(rng: random.Random, experts: int, bidders: int, start: dt.datetime) -> dict:
    specialties_load()
    leaves = [c for c in Specialty.objects.values_list("code", flat=True) if len(c) == 5]
    others = _orgs(1000, 100_000, "Employer")
    bidder_orgs = _orgs(bidders, 200_000, "Bidder")
    tenderer, agent_org = _orgs(1, 300_000, "Tenderer")[0], _orgs(1, 300_001, "Agency")[0]
    agent = user_create(actor="system", username="bench-agent", password="bench-password-1", organisation=agent_org,  # noqa: S106
                        roles=[Role.AGENT])
    bidder_user = user_create(actor="system", username="bench-bidder", password="bench-password-1",  # noqa: S106
                              organisation=bidder_orgs[0], roles=[Role.BIDDER])
    # experts: ~10 current staff per bidder, the rest at other employers or none
    staff_of = {}
    for org in bidder_orgs:
        for _ in range(10):
            staff_of[rng.randrange(experts)] = org.pk
    rows = []
    for i in range(experts):
        status = ExpertStatus.ACTIVE
        roll = rng.random()
        if roll < 0.02:
            status = ExpertStatus.SUSPENDED
        elif roll < 0.025:
            status = ExpertStatus.BANNED
        employer = staff_of.get(i) or (rng.choice(others).pk if rng.random() < 0.8 else None)
        rows.append(Expert(name=f"专家{i:06d}", id_number_hash=hashlib.sha256(b"id%d" % i).hexdigest(),
                           phone=f"13{i:09d}", region=rng.choice(REGIONS), employer_id=employer,
                           title="高级工程师", years=rng.randrange(3, 35), status=status))
    Expert.objects.bulk_create(rows, batch_size=BATCH)
    ids = list(Expert.objects.order_by("pk").values_list("pk", flat=True))
    through = Expert.specialties.through
    links = []
    for pk in ids:
        for code in rng.sample(leaves, rng.choice((1, 2, 2, 3))):
            links.append(through(expert_id=pk, specialty_id=code))
    through.objects.bulk_create(links, batch_size=BATCH)
    today = start.date()
    employments = []
    for org in bidder_orgs:  # former staff of every bidder, ended 0–6 years ago
        for _ in range(10):
            ended = today - dt.timedelta(days=rng.randrange(0, 6 * 365))
            employments.append(ExpertEmployment(expert_id=rng.choice(ids), organisation_id=org.pk,
                                                started_on=ended - dt.timedelta(days=2000), ended_on=ended))
    for _ in range(20_000):
        ended = today - dt.timedelta(days=rng.randrange(0, 15 * 365))
        employments.append(ExpertEmployment(expert_id=rng.choice(ids), organisation_id=rng.choice(others).pk,
                                            started_on=ended - dt.timedelta(days=1500), ended_on=ended))
    ExpertEmployment.objects.bulk_create(employments, batch_size=BATCH)
    relatives = [ExpertRelative(expert_id=rng.choice(ids), relation="配偶",
                                organisation_id=(rng.choice(bidder_orgs) if i < 300 else rng.choice(others)).pk)
                 for i in range(1000)]
    ExpertRelative.objects.bulk_create(relatives, batch_size=BATCH)
    leave_rows = []
    for i in range(3000):
        begin = start + dt.timedelta(days=rng.randrange(-60, 60)) if i % 3 else start - dt.timedelta(days=1)
        leave_rows.append(ExpertLeave(expert_id=rng.choice(ids), starts_at=begin,
                                      ends_at=begin + dt.timedelta(days=rng.randrange(1, 20))))
    ExpertLeave.objects.bulk_create(leave_rows, batch_size=BATCH)
    records = []
    capped = rng.sample(ids, 300)
    for pk in capped:
        for k in range(3):
            records.append(PanelRecord(expert_id=pk, tenderer_id=tenderer.pk,
                                       evaluation_start=start.replace(month=1, day=2) + dt.timedelta(days=k)))
    while len(records) < 30_000:
        records.append(PanelRecord(expert_id=rng.choice(ids), tenderer_id=rng.choice(others).pk,
                                   evaluation_start=start - dt.timedelta(days=rng.randrange(1, 1000))))
    PanelRecord.objects.bulk_create(records, batch_size=BATCH)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    return {"tenderer": tenderer, "agent_org": agent_org, "agent": agent, "bidders": bidder_orgs,
            "bidder_user": bidder_user}


def new_lot(world: dict, n: int, now: dt.datetime) -> Lot:
    tender = Tender.objects.create(
        code=f"GC-BENCH-{n:04d}", title=f"Bench tender {n}", tenderer=world["tenderer"], agent=world["agent_org"],
        created_by=world["agent"], procedure_type="works", bid_deadline=now - dt.timedelta(hours=1),
        status=TenderStatus.BIDDING_CLOSED, published_at=now - dt.timedelta(days=30),
        bidding_closed_at=now - dt.timedelta(hours=1))
    lot = Lot.objects.create(tender=tender, number=1, title="Lot 1", estimated_price=50_000_000)
    Registration.objects.bulk_create([Registration(lot=lot, tender=tender, bidder=org,
                                                   registered_by=world["bidder_user"], created_at=now, updated_at=now)
                                      for org in world["bidders"]])
    return lot


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experts", type=int, default=100_000)
    parser.add_argument("--bidders", type=int, default=200)
    parser.add_argument("--draws", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    now = timezone.now()
    start = (now + dt.timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(hours=6)
    print(f"# expert draw bench on {KIND}, {_django.machine()}, {dt.date.today()}")
    t0 = time.perf_counter()
    world = build(rng, args.experts, args.bidders, start)
    print(f"pool built in {time.perf_counter() - t0:.1f} s: {Expert.objects.count():,} experts, "
          f"{Expert.specialties.through.objects.count():,} specialty links, {args.bidders} bidders, "
          f"{ExpertEmployment.objects.count():,} employments, {PanelRecord.objects.count():,} panel records")
    request = {"evaluation_start": start, "evaluation_end": end, "committee_size": 7, "lines": LINES,
               "place": "评标室 1"}
    # warm-up (connection, caches, query plans), not counted
    draw_start(actor=world["agent"], lot=new_lot(world, 0, now), **request)
    totals, eligibility, commits, samples, queries = [], [], [], [], []
    draw = None
    for n in range(1, args.draws + 1):
        lot = new_lot(world, n, now)
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            draw = draw_start(actor=world["agent"], lot=lot, **request)
            totals.append(time.perf_counter() - began)
        queries.append(len(captured))
        # the two phases separately, on a second lot (same state plus one draw)
        lot2 = new_lot(world, 1000 + n, now)
        ctx = avoidance.Context(tenderer_id=world["tenderer"].pk, agent_id=world["agent_org"].pk,
                                bidder_ids=frozenset(o.pk for o in world["bidders"]), start=start, end=end)
        began = time.perf_counter()
        found = avoidance.eligibility(ctx, [(line["specialty"], []) for line in LINES])
        eligibility.append(time.perf_counter() - began)
        began = time.perf_counter()
        committed = draw_request(actor=world["agent"], lot=lot2, **request)
        commits.append(time.perf_counter() - began)
        began = time.perf_counter()
        draw_sample(draw_id=committed.pk)
        samples.append(time.perf_counter() - began)
    assert draw is not None
    ms = [t * 1000 for t in totals]
    print(f"draw_start end to end ({args.draws} draws): median {statistics.median(ms):.1f} ms, "
          f"p95 {pct(ms, 0.95):.1f} ms, min {min(ms):.1f} ms, max {max(ms):.1f} ms; "
          f"{statistics.median(queries):.0f} SQL queries per draw")
    print(f"  eligibility (avoidance queries + set operations): median {statistics.median(eligibility) * 1000:.1f} ms "
          f"(lines of {', '.join(f'{len(x):,}' for x in found.lines)} eligible; {found.candidates:,} distinct "
          f"candidates, {found.excluded_total:,} of them excluded: "
          + ", ".join(f"{k} {v}" for k, v in found.excluded.items()) + ")")
    print(f"  transaction 1, request + eligibility + commit event: median {statistics.median(commits) * 1000:.1f} ms")
    print(f"  transaction 2, sampling + panel + calls + drawn event: median {statistics.median(samples) * 1000:.1f} ms")
    with transaction.atomic():
        began = time.perf_counter()
        result = draw_replay(draw)
    print(f"replay-draw of the last draw: {'identical' if result.ok else result.problems} "
          f"in {(time.perf_counter() - began) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
