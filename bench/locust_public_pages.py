"""Locust user for bench/public_pages_bench.py: anonymous readers of the public pages at a deadline.

`/notices/` : `/tenders/<id>/` = 1 : 3, think time 0.5–1.5 s. Tender ids come from
BENCH_TENDER_IDS (comma-separated). Every response's status is counted, and for 503/429
whether it carried Retry-After; the counts are written to BENCH_STATUS_FILE (JSON) when
locust stops. Only loopback hosts are allowed.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from urllib.parse import urlparse

from locust import HttpUser, between, events, task

TENDER_IDS = [int(x) for x in os.environ.get("BENCH_TENDER_IDS", "1").split(",") if x]
STATUS: Counter = Counter()


@events.test_start.add_listener
def _loopback_only(environment, **kwargs) -> None:
    host = urlparse(environment.host or "").hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to load a non-loopback host: {host}")


@events.request.add_listener
def _count(request_type, name, response_time, response_length, response=None, exception=None, **kwargs) -> None:
    if response is None or getattr(response, "status_code", 0) == 0:
        STATUS[f"exception:{type(exception).__name__}"] += 1
        return
    code = response.status_code
    if code in (429, 503):
        STATUS[f"{code}:{'retry-after' if response.headers.get('Retry-After') else 'no-retry-after'}"] += 1
    else:
        STATUS[str(code)] += 1


@events.quitting.add_listener
def _write(environment, **kwargs) -> None:
    path = os.environ.get("BENCH_STATUS_FILE")
    if path:
        with open(path, "w") as fh:
            json.dump(dict(STATUS), fh)


class PublicReader(HttpUser):
    wait_time = between(0.5, 1.5)

    @task(1)
    def notices(self) -> None:
        self.client.get("/notices/", name="/notices/")

    @task(3)
    def tender(self) -> None:
        self.client.get(f"/tenders/{random.choice(TENDER_IDS)}/", name="/tenders/<id>/")
