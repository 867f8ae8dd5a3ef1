"""Issue 20: past its capacity the web answers 503 + Retry-After at once (JSON under /api/,
a small HTML page otherwise), and serves normally again as soon as the load ends."""

from __future__ import annotations

import asyncio
import json

import pytest

from config.shedding import LoadShedder
from tests.capacity.asgi_client import get, slots_taken

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app(settings):
    settings.ROOT_URLCONF = "tests.capacity.urls"
    settings.WEB_RETRY_AFTER = 3
    from config.asgi import django_asgi_app

    return LoadShedder(django_asgi_app, max_inflight=2, max_queue=2, queue_timeout=0.2)


def test_saturation_is_answered_503_with_retry_after_and_recovers(app):
    async def run():
        slow = [asyncio.create_task(get(app, "/api/v1/capacity-test/slow", query="s=1.5")) for _ in range(2)]
        await slots_taken(app, 2)
        api, page = await asyncio.gather(get(app, "/api/v1/me"), get(app, "/notices/"))
        held = await asyncio.gather(*slow)
        after = await get(app, "/api/v1/capacity-test/slow", query="s=0")
        return api, page, held, after

    api, page, held, after = asyncio.run(run())
    assert api.status == 503 and api.headers["retry-after"] == "3"
    assert api.headers["content-type"] == "application/json"
    assert json.loads(api.body) == {"error": {"code": "overloaded", "message": json.loads(api.body)["error"]["message"],
                                              "fields": {}}}
    assert page.status == 503 and page.headers["content-type"].startswith("text/html")
    assert page.headers["retry-after"] == "3" and "平台繁忙" in page.body.decode()
    assert [r.status for r in held] == [200, 200]  # the admitted requests were not disturbed
    assert after.status == 200 and app.inflight == 0 and app.waiting == 0


def test_a_full_queue_is_refused_immediately_and_a_short_wait_is_served(app):
    async def run():
        slow = [asyncio.create_task(get(app, "/capacity-test/slow", query="s=0.15")) for _ in range(2)]
        await slots_taken(app, 2)
        # Two may wait (max_queue=2) and get served when a slot frees within 0.2 s; the rest are refused at once.
        waiting = [asyncio.create_task(get(app, "/capacity-test/slow", query="s=0")) for _ in range(4)]
        return await asyncio.gather(*slow), await asyncio.gather(*waiting)

    held, waiting = asyncio.run(run())
    assert [r.status for r in held] == [200, 200]
    statuses = sorted(r.status for r in waiting)
    assert statuses.count(503) >= 2 and 500 not in statuses, statuses
    assert app.shed >= 2
