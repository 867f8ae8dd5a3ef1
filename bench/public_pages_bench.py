"""Public pages under load (issue 20): locust against WEB_WORKERS uvicorn processes on PostgreSQL + Redis.

    DATABASE_URL=postgres://postgres@127.0.0.1:18750/pagesbase REDIS_URL=redis://127.0.0.1:6379/7 \
        python bench/public_pages_bench.py --users 50,200,1000 --duration 60

Sets up a fresh database `<name>_pages` next to DATABASE_URL's, seeds the demo accounts and
`--tenders` published tenders, starts `uvicorn config.asgi:application --workers N` on
127.0.0.1 with the production connection settings (DB_CONN_MAX_AGE=0, DB_MAX_CONNECTIONS,
WEB_MAX_INFLIGHT, the public page cache), then for each user count runs locust headless
(bench/locust_public_pages.py: `/notices/` : `/tenders/<id>/` = 1 : 3, think time 0.5–1.5 s)
for `--duration` seconds. Meanwhile it samples pg_stat_activity every 0.2 s (client backends
on the bench database). 10 s after each run stops it checks that the pages answer 200 again.
Prints one markdown row per run for bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import ROOT, machine, setup  # noqa: E402

PY = sys.executable
LOCUST = str(Path(PY).with_name("locust"))


def seed(tenders: int) -> list[int]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from demo import actors
    from trading.services.documents import document_upload
    from trading.services.tenders import lot_create, tender_create, tender_publish

    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", stdout=devnull)
    from django.conf import settings

    actors.custodian_keys_ensure(Path(settings.VAR_DIR) / "keys")
    agent, tenderer = User.objects.get(username="agent1"), User.objects.get(username="tenderer1")
    ids = []
    for i in range(tenders):
        tender = tender_create(actor=agent, title=f"Road resurfacing section {i + 1}", tenderer=tenderer.organisation,
                               procedure_type="works", readout_items=["duration_days"],
                               bid_deadline=timezone.now() + timezone.timedelta(days=30),
                               description="Milling and resurfacing of asphalt carriageway. " * 20)
        for n in range(3):
            lot_create(actor=agent, tender=tender, title=f"Lot {n + 1}", estimated_price="10000000.00",
                       deposit_amount="100000.00")
        document_upload(actor=agent, tender=tender, file=SimpleUploadedFile(
            "tender-documents.pdf", actors._pdf(f"Tender documents {i}"), content_type="application/pdf"))
        tender_publish(actor=agent, tender=tender)
        ids.append(tender.pk)
    return ids


class Sampler(threading.Thread):
    """Client backends on the bench database, every 0.2 s, from outside the server."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        import psycopg2
        from dj_database_url import parse

        cfg = parse(url)
        self.db = cfg["NAME"]
        self.conn = psycopg2.connect(dbname=cfg["NAME"], user=cfg["USER"], password=cfg["PASSWORD"] or None,
                                     host=cfg["HOST"] or None, port=cfg["PORT"] or None)
        self.conn.autocommit = True
        self.samples: list[int] = []
        self.stop = threading.Event()

    def count(self) -> int:
        with self.conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' "
                        "AND pid <> pg_backend_pid()", [self.db])
            return cur.fetchone()[0]

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append(self.count())
            time.sleep(0.2)


def get(url: str, timeout: float = 10) -> tuple[int, float]:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - http://127.0.0.1 only
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 0
    return status, time.perf_counter() - start


def start_server(port: int, workers: int, env: dict) -> subprocess.Popen:
    log = open(env["BENCH_SERVER_LOG"], "w")  # noqa: SIM115 - the server's stderr for its lifetime
    proc = subprocess.Popen([PY, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port",  # noqa: S603
                             str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning",
                             "--timeout-keep-alive", os.environ.get("WEB_KEEP_ALIVE", "30")],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(120):
        if get(f"http://127.0.0.1:{port}/notices/", timeout=2)[0] == 200:
            return proc
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("server did not start; see " + env["BENCH_SERVER_LOG"])


def run_locust(users: int, duration: int, port: int, ids: list[int], workdir: Path, env: dict) -> dict:
    prefix = workdir / f"u{users}"
    status_file = workdir / f"u{users}-status.json"
    run_env = {**env, "BENCH_TENDER_IDS": ",".join(map(str, ids)), "BENCH_STATUS_FILE": str(status_file)}
    spawn = max(1, users // 10)  # all users within 10 s
    subprocess.run([LOCUST, "-f", str(ROOT / "bench" / "locust_public_pages.py"), "--headless", "-u", str(users),  # noqa: S603
                    "-r", str(spawn), "-t", f"{duration}s", "--host", f"http://127.0.0.1:{port}", "--csv",
                    str(prefix), "--only-summary", "--stop-timeout", "5", "--exit-code-on-error", "0",
                    "--loglevel", "WARNING"], cwd=ROOT, env=run_env, check=True,
                   stdout=subprocess.DEVNULL)
    with open(f"{prefix}_stats.csv") as fh:
        agg = next(row for row in csv.DictReader(fh) if row["Name"] == "Aggregated")
    return {"requests": int(agg["Request Count"]), "failures": int(agg["Failure Count"]),
            "rps": float(agg["Requests/s"]), "p50": agg["50%"], "p95": agg["95%"], "p99": agg["99%"],
            "status": json.loads(status_file.read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="50,200,1000")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18710)
    parser.add_argument("--tenders", type=int, default=20)
    parser.add_argument("--db-max-connections", type=int, default=20, help="DB_MAX_CONNECTIONS per web process")
    parser.add_argument("--inflight", type=int, default=16, help="WEB_MAX_INFLIGHT per web process")
    parser.add_argument("--cache-seconds", type=int, default=30, help="PUBLIC_PAGE_CACHE_SECONDS (0 = off)")
    parser.add_argument("--recovery-after", type=float, default=10)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL")
    setup("pages")
    ids = seed(args.tenders)
    from django.conf import settings

    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DB_CONN_MAX_AGE": "0",
           "DB_MAX_CONNECTIONS": str(args.db_max_connections), "WEB_MAX_INFLIGHT": str(args.inflight),
           "PUBLIC_PAGE_CACHE_SECONDS": str(args.cache_seconds), "PTRADE_VAR_DIR": str(settings.VAR_DIR),
           "CACHE_PREFIX": f"bench-pages-{os.getpid()}", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
           "BENCH_SERVER_LOG": str(workdir / "server.log")}
    cap = args.workers * args.db_max_connections
    print(f"# {machine()}; {args.workers} uvicorn workers; cap {args.db_max_connections} connections/process "
          f"= {cap}; WEB_MAX_INFLIGHT {args.inflight}; page cache {args.cache_seconds} s; {len(ids)} tenders; "
          f"logs in {workdir}", flush=True)
    server = start_server(args.port, args.workers, env)
    sampler = Sampler(os.environ["DATABASE_URL"])
    sampler.start()
    try:
        for users in [int(u) for u in args.users.split(",")]:
            sampler.samples.clear()
            result = run_locust(users, args.duration, args.port, ids, workdir, env)
            peak = max(sampler.samples or [0])
            time.sleep(args.recovery_after)
            checks = [get(f"http://127.0.0.1:{args.port}{p}") for p in ("/notices/", f"/tenders/{ids[0]}/")] * 3
            recovered = all(s == 200 for s, _ in checks)
            status = result["status"]
            others = {k: v for k, v in status.items() if k != "200"}
            print(f"| {users} users | {result['rps']:.1f} req/s | {result['requests']} requests, "
                  f"{result['failures']} not 2xx {others or ''} | p50 {result['p50']} ms, p95 {result['p95']} ms, "
                  f"p99 {result['p99']} ms | peak PostgreSQL connections {peak} (cap {cap}) | "
                  f"{args.recovery_after:g} s after: {'200' if recovered else checks} "
                  f"(max {max(t for _, t in checks) * 1000:.0f} ms) |", flush=True)
    finally:
        sampler.stop.set()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
