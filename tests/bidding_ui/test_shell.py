"""The UI shell: money and date formatting per language, badges, countdowns, navigation
groups, and the role dashboards on the home page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation

from bidding_ui.dashboard import dashboard_for
from bidding_ui.templatetags.ui import (
    format_duration,
    format_money,
    format_when,
    money_in_chinese_capitals,
)
from trading.services.objections import objection_raise
from trading.services.questions import question_ask
from trading.services.registrations import registration_create


def render(source: str, **context) -> str:
    return Template("{% load ui %}" + source).render(Context(context))


# --- formatting ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (Decimal("1234567.891"), "1,234,567.89 元", "¥1,234,567.89"),
        ("0", "0.00 元", "¥0.00"),
        (Decimal("-12.5"), "-12.50 元", "-¥12.50"),
        (800000, "800,000.00 元", "¥800,000.00"),
        (Decimal("0.005"), "0.01 元", "¥0.01"),  # half up
    ],
)
def test_money_per_language(value, zh, en):
    assert format_money(value, language="zh-hans") == zh
    assert format_money(value, language="en") == en
    assert format_money(value, "USD", language="zh-hans") == format_money(value, "USD", language="en")
    assert format_money(None) == "" and format_money("not a number") == ""


def test_money_filter_follows_the_active_language():
    with translation.override("zh-hans"):
        assert render("{{ v|money }}", v=Decimal("1234567.89")) == "1,234,567.89 元"
    with translation.override("en"):
        assert render("{{ v|money }}", v=Decimal("1234567.89")) == "¥1,234,567.89"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        ("100", "壹佰元整"),
        ("1000.05", "壹仟元零伍分"),
        ("100001", "壹拾万零壹元整"),
        ("100000000.10", "壹亿元壹角"),
        ("10100", "壹万零壹佰元整"),
        ("0", "零元整"),
        ("0.5", "伍角"),
        ("800000", "捌拾万元整"),
        ("20500000", "贰仟零伍拾万元整"),
    ],
)
def test_money_in_chinese_capitals(value, text):
    assert money_in_chinese_capitals(Decimal(value)) == text


def test_dates_and_durations_per_language():
    moment = timezone.make_aware(timezone.datetime(2026, 5, 1, 9, 30, 5), timezone.get_fixed_timezone(480))
    assert format_when(moment, language="zh-hans") == "2026年5月1日 09:30"
    assert format_when(moment, "seconds", language="zh-hans") == "2026年5月1日 09:30:05"
    assert format_when(moment, "seconds", language="en") == "1 May 2026, 09:30:05"
    assert format_when(moment, "date", language="en") == "1 May 2026"
    assert format_duration(59) == "00:00:59"
    with translation.override("en"):
        assert format_duration(3 * 86400 + 4 * 3600 + 5 * 60 + 6) == "3 days 04:05:06"
        assert format_duration(86400) == "1 day 00:00:00"
    with translation.override("zh-hans"):
        assert format_duration(3 * 86400 + 6) == "3天 00:00:06"
    assert format_duration(-5) == "00:00:00"


def test_status_badge_countdown_and_progress():
    html = render("{% status_badge s label %}", s="published", label="Published")
    assert html == '<span class="badge ok" data-status="published">Published</span>'
    assert 'class="badge"' in render("{% status_badge 'whatever' 'X' %}")
    soon = timezone.now() + timedelta(hours=2)
    html = render("{% countdown d %}", d=soon)
    assert 'role="timer"' in html and f'data-countdown="{soon.isoformat()}"' in html and "01:59:" in html
    with translation.override("en"):
        assert "deadline passed" in render("{% countdown d %}", d=timezone.now() - timedelta(seconds=1))
    html = render("{% progress 3 4 'Upload' %}")
    assert '<progress value="3" max="4" aria-label="Upload">75%</progress>' in html


# --- navigation and dashboards ----------------------------------------------------------------------------


def english(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def test_navigation_is_grouped_by_role(cast):
    page = english(cast.agent).get("/agent/").content.decode()
    assert 'class="nav-group nav-group-portal"' in page and 'class="nav-group nav-group-tendering"' in page
    assert 'href="/agent/" class="active" aria-current="page"' in page
    assert "nav-group-bidding" not in page and "nav-group-supervision" not in page
    page = english().get("/notices/").content.decode()
    assert "nav-group-tendering" not in page and 'href="/notices/" class="active" aria-current="page"' in page


def test_navigation_highlights_one_entry_the_deepest_section(cast, published):
    page = english(cast.supervisor).get(f"/supervisor/tenders/{published.pk}/replay/").content.decode()
    assert page.count('class="active"') == 1  # inside both /supervisor/ and /supervisor/tenders/
    assert 'href="/supervisor/tenders/" class="active">' in page and 'aria-current="page"' not in page


def test_home_for_visitors_lists_open_tenders_with_countdowns(published):
    page = english().get("/").content.decode()
    assert published.code in page and "data-countdown=" in page
    assert "Latest notices" in page


def test_dashboards_say_what_is_due_next(published, cast, clock):
    lot = published.lots.get()
    registration_create(actor=cast.bidders[0], lot=lot)
    question_ask(actor=cast.bidders[0], tender=published, text="Which grade?")
    objection_raise(actor=cast.bidders[1], tender=published, text="Clause 3 is unfair.")
    with translation.override("en"):
        agent = {s.key: s for s in dashboard_for(cast.agent)}
        kinds = [i.kind for i in agent["agent"].items]
        assert "Objection reply due" in kinds and "1 question to answer" in kinds
        bidder = {s.key: s for s in dashboard_for(cast.bidders[0])}
        assert [i.kind for i in bidder["bidder"].items] == ["Bid deadline", "Waiting for an answer"]
        assert bidder["bidder"].items[0].due_at == published.bid_deadline
        assert "agent" not in bidder and "supervisor" not in bidder
        supervisor = {s.key: s for s in dashboard_for(cast.supervisor)}
        assert "Objection reply due" in [i.kind for i in supervisor["supervisor"].items]
        clock.advance(days=4)  # the reply is late now
        supervisor = {s.key: s for s in dashboard_for(cast.supervisor)}
        first = supervisor["supervisor"].items[0]
        assert first.kind == "Objection reply overdue" and first.overdue and first.tone == "bad"
    assert dashboard_for(cast.public_user) == []
    page = english(cast.bidders[0]).get("/").content.decode()
    assert "Dashboard" in page and 'id="due-bidder"' in page and published.code in page


def test_a_failing_dashboard_provider_does_not_break_the_home_page(cast, monkeypatch):
    from bidding_ui import dashboard

    def broken(user, now):
        raise RuntimeError("boom")

    monkeypatch.setattr(dashboard, "_PROVIDERS", [(0, broken), *dashboard._PROVIDERS])
    assert english(cast.agent).get("/").status_code == 200
