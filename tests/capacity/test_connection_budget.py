"""Issue 20 item 1: however many requests arrive at once, a web process holds at most
DB_MAX_CONNECTIONS connections to PostgreSQL, gives them back after each request, and
answers 503 + Retry-After (not 500) when no connection frees up in time."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import psycopg2
import pytest
from django.db import connection

from config.db_capped.base import open_connections
from config.shedding import LoadShedder
from tests.capacity.asgi_client import get

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class ConnectionSampler:
    """Counts the test database's backends in pg_stat_activity every few milliseconds, from outside Django.

    `active=True` counts only backends running a statement (the slow view's pg_sleep): a backend whose
    client has already closed stays listed, idle, until its process exits, which on a busy machine
    overlaps the next request's new connection and would be counted as a fifth connection held."""

    def __init__(self, *, active: bool = False) -> None:
        self.active = active
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        self._conn = psycopg2.connect(**params)
        self._conn.autocommit = True
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self) -> int:
        with self._conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                           + (" AND state = 'active'" if self.active else ""))
            return cursor.fetchone()[0]

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.count())
            time.sleep(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()


@pytest.fixture
def capped(settings):
    """The platform's URLs plus slow views; a budget of 4 connections for this process."""
    settings.ROOT_URLCONF = "tests.capacity.urls"
    saved = {k: connection.settings_dict.get(k) for k in ("MAX_CONNECTIONS", "CONNECTION_WAIT_SECONDS")}
    connection.settings_dict["MAX_CONNECTIONS"] = 4
    connection.settings_dict["CONNECTION_WAIT_SECONDS"] = 30
    connection.close()  # the test thread's own connection is re-opened under the new budget
    from config.asgi import django_asgi_app

    yield LoadShedder(django_asgi_app, max_inflight=1000, max_queue=1000, queue_timeout=60)
    connection.close()
    connection.settings_dict.update(saved)


def _burst(app, n: int, path: str, query: str = "s=0.3"):
    async def run():
        return await asyncio.gather(*(get(app, path, query=query) for _ in range(n)))

    return asyncio.run(run())


def test_forty_concurrent_requests_never_hold_more_than_the_budget(capped):
    connected_before = ConnectionSampler().count()
    with ConnectionSampler(active=True) as sampler:
        baseline = sampler.count()
        replies = _burst(capped, 40, "/capacity-test/slow")
        time.sleep(0.1)
    assert [r.status for r in replies] == [200] * 40
    assert max(sampler.samples) - baseline <= 4, sampler.samples
    assert max(sampler.samples) - baseline >= 2  # the burst did run concurrently
    # Every connection was given back at the end of its request: none is left open.
    assert open_connections() == 0
    assert ConnectionSampler().count() == connected_before


def test_budget_exhausted_answers_503_with_retry_after_and_recovers(capped):
    connection.settings_dict["CONNECTION_WAIT_SECONDS"] = 0.2
    replies = _burst(capped, 12, "/api/v1/capacity-test/slow", query="s=1")
    statuses = sorted(r.status for r in replies)
    assert statuses.count(200) >= 4 and 503 in statuses and 500 not in statuses, statuses
    refused = next(r for r in replies if r.status == 503)
    assert int(refused.headers["retry-after"]) >= 1
    body = json.loads(refused.body)
    assert body["error"]["code"] == "database_unavailable" and body["error"]["fields"] == {}
    # Pages get a small HTML page, not Django's 500.
    html = [r for r in _burst(capped, 12, "/capacity-test/slow", query="s=1") if r.status == 503]
    assert html and html[0].headers["content-type"].startswith("text/html")
    # Right after the burst the process serves normally again.
    assert _burst(capped, 1, "/capacity-test/slow", query="s=0")[0].status == 200
    assert open_connections() == 0
