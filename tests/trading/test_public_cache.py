"""The public pages everyone reads at a deadline are cached for anonymous visitors only,
per language, invalidated when what they show changes (issue 20)."""

from __future__ import annotations

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client

from trading.models import Tender
from trading.services.questions import question_answer, question_ask

pytestmark = pytest.mark.django_db

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')


def anonymous(lang: str = "en", **kw) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=lang, **kw)


def test_anonymous_pages_are_served_from_the_cache(published):
    for path in ("/notices/", f"/tenders/{published.pk}/", "/results/", f"/notices/{published.notices.first().pk}/"):
        first, second = anonymous().get(path), anonymous().get(path)
        assert first.status_code == second.status_code == 200
        assert first["X-Public-Cache"] == "miss" and second["X-Public-Cache"] == "hit", path
        assert _TOKEN.sub("", first.content.decode()) == _TOKEN.sub("", second.content.decode())


def test_a_change_on_commit_invalidates_the_cached_tender_page(published, cast, django_capture_on_commit_callbacks):
    path = f"/tenders/{published.pk}/"
    anonymous().get(path)
    assert anonymous().get(path)["X-Public-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        question = question_ask(actor=cast.bidders[0], tender=published, text="Is asphalt grade 70 acceptable?")
        question_answer(actor=cast.agent, question=question, answer="Grade 70 or better is acceptable.")
    page = anonymous().get(path)
    assert page["X-Public-Cache"] == "miss"
    assert "Grade 70 or better is acceptable." in page.content.decode()


def test_a_page_stored_while_the_change_was_uncommitted_is_dropped_on_commit(published, cast,
                                                                            django_capture_on_commit_callbacks):
    path = f"/tenders/{published.pk}/"
    anonymous().get(path)
    with django_capture_on_commit_callbacks(execute=True):
        Tender.objects.get(pk=published.pk).save()
        assert anonymous().get(path)["X-Public-Cache"] == "miss"  # invalidated at the change already
        assert anonymous().get(path)["X-Public-Cache"] == "hit"  # stored before the commit …
    assert anonymous().get(path)["X-Public-Cache"] == "miss"  # … and dropped by the commit


def test_logged_in_pages_are_never_stored_nor_served_from_the_cache(published, cast):
    path = f"/tenders/{published.pk}/"
    agent = anonymous()
    agent.force_login(cast.agent)
    for _ in range(2):
        page = agent.get(path)
        assert "X-Public-Cache" not in page and "Log out" in page.content.decode()
    public = anonymous().get(path)
    assert public["X-Public-Cache"] == "miss" and "Log out" not in public.content.decode()
    assert anonymous().get(path)["X-Public-Cache"] == "hit"
    # A cached anonymous page is not served to a logged-in bidder either (it would lack the register form).
    bidder = anonymous()
    bidder.force_login(cast.bidders[0])
    page = bidder.get(path)
    assert "X-Public-Cache" not in page and "Register for lot 1" in page.content.decode()


def test_each_language_has_its_own_cached_page():
    for lang in ("en", "zh-hans"):
        assert anonymous(lang).get("/notices/")["X-Public-Cache"] == "miss"
    en2, zh2 = anonymous("en").get("/notices/"), anonymous("zh-hans").get("/notices/")
    assert (en2["X-Public-Cache"], zh2["X-Public-Cache"]) == ("hit", "hit")
    assert en2["Content-Language"] == "en" and zh2["Content-Language"] == "zh-hans"
    assert "Notices" in en2.content.decode() and "公告" in zh2.content.decode()


def test_a_cached_page_carries_the_visitors_own_csrf_token(published):
    first = anonymous(enforce_csrf_checks=True)
    first.get("/notices/")
    visitor = anonymous(enforce_csrf_checks=True)
    page = visitor.get("/notices/")
    assert page["X-Public-Cache"] == "hit"
    tokens = set(_TOKEN.findall(page.content.decode()))
    assert tokens and all(_unmask_cipher_token(t) == visitor.cookies["csrftoken"].value for t in tokens)
    assert first.cookies["csrftoken"].value != visitor.cookies["csrftoken"].value
    # The language switch on the cached page works for this visitor.
    switched = visitor.post("/i18n/setlang/", {"language": "zh-hans", "next": "/notices/",
                                               "csrfmiddlewaretoken": tokens.pop()})
    assert switched.status_code == 302
