"""The cached anonymous public pages are served in front of Django (no thread, no database), with
the visitor's own CSRF token, and keep being served while Django is saturated (issue 20)."""

from __future__ import annotations

import asyncio
import re

import pytest
from django.conf import settings
from django.middleware.csrf import _unmask_cipher_token

from bidding_ui.page_cache import PublicPageASGI
from config.shedding import LoadShedder
from tests.capacity.asgi_client import get, slots_taken

pytestmark = [pytest.mark.django_db(transaction=True)]

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
EN = [(b"accept-language", b"en")]


@pytest.fixture
def stack(settings):
    settings.ROOT_URLCONF = "tests.capacity.urls"
    from config.asgi import django_asgi_app

    shedder = LoadShedder(django_asgi_app, max_inflight=1, max_queue=0, queue_timeout=0.1)
    return PublicPageASGI(shedder), shedder


def _csrf_cookie(reply) -> str:
    cookie = reply.headers["set-cookie"]
    return re.search(rf"{settings.CSRF_COOKIE_NAME}=([A-Za-z0-9]+)", cookie).group(1)


def test_second_visitor_is_served_in_front_of_django_with_its_own_token(stack):
    app, shedder = stack
    first = asyncio.run(get(app, "/notices/", headers=EN))
    assert first.status == 200 and first.headers["x-public-cache"] == "miss"
    second = asyncio.run(get(app, "/notices/", headers=EN))
    assert second.status == 200 and second.headers["x-public-cache"] == "hit"
    assert "x-public-cache-ttl" not in second.headers
    secret = _csrf_cookie(second)
    tokens = set(_TOKEN.findall(second.body.decode()))
    assert tokens and all(_unmask_cipher_token(t) == secret for t in tokens)
    assert secret != _csrf_cookie(first)
    assert second.headers["content-language"] == "en"
    assert int(second.headers["content-length"]) == len(second.body)
    # A visitor with a valid CSRF cookie keeps it.
    mine = "a" * 32
    third = asyncio.run(get(app, "/notices/", headers=[*EN, (b"cookie", f"csrftoken={mine}".encode())]))
    assert third.headers["x-public-cache"] == "hit" and _csrf_cookie(third) == mine
    assert all(_unmask_cipher_token(t) == mine for t in _TOKEN.findall(third.body.decode()))


def test_sessions_and_other_languages_are_not_served_the_anonymous_english_page(stack):
    app, _ = stack
    asyncio.run(get(app, "/notices/", headers=EN))
    assert asyncio.run(get(app, "/notices/", headers=EN)).headers["x-public-cache"] == "hit"
    with_session = asyncio.run(get(app, "/notices/", headers=[*EN, (b"cookie", b"sessionid=abc")]))
    assert "x-public-cache" not in with_session.headers
    chinese = asyncio.run(get(app, "/notices/", headers=[(b"accept-language", b"zh-hans")]))
    assert chinese.headers["x-public-cache"] == "miss" and chinese.headers["content-language"] == "zh-hans"


@pytest.mark.postgres
def test_cached_pages_are_served_while_django_is_saturated(stack):
    app, shedder = stack

    async def run():
        await get(app, "/notices/", headers=EN)  # stored
        slow = asyncio.create_task(get(app, "/capacity-test/slow", query="s=1"))
        await slots_taken(shedder, 1)  # the only slot is taken
        cached, uncached = await asyncio.gather(get(app, "/notices/", headers=EN), get(app, "/results/", headers=EN))
        return cached, uncached, await slow

    cached, uncached, slow = asyncio.run(run())
    assert cached.status == 200 and cached.headers["x-public-cache"] == "hit"
    assert uncached.status == 503 and "retry-after" in uncached.headers
    assert slow.status == 200
