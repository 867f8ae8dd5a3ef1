"""trading/rules.py: the numbers, their sources, periods, working days and acceleration."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from trading.rules import (
    GOVERNMENT_PROCUREMENT,
    RULES,
    WORKS,
    add_working_days,
    legal_period,
    rules_for,
)

CST = ZoneInfo("Asia/Shanghai")


def test_every_procedure_has_every_number_with_a_source():
    assert set(RULES) == {"works", "goods", "services", "government_procurement"}
    for rules in RULES.values():
        for field in (
            "documents_to_deadline",
            "documents_available",
            "amendment_before_deadline",
            "objection_before_deadline",
            "objection_reply",
            "deposit_max_percent",
            "min_bids",
            "publicity",
        ):
            number = getattr(rules, field)
            assert number.source and number.value


def test_statutory_numbers():
    assert WORKS.documents_to_deadline.value == 20 and "招标投标法 Art 24" in WORKS.documents_to_deadline.source
    assert GOVERNMENT_PROCUREMENT.documents_to_deadline.source == "政府采购法 Art 35"
    assert WORKS.documents_available.value == 5 and WORKS.documents_available.unit == "days"
    assert GOVERNMENT_PROCUREMENT.documents_available.unit == "working_days"
    assert WORKS.amendment_before_deadline.value == 15
    assert WORKS.objection_before_deadline.value == 10 and WORKS.objection_reply.value == 3
    assert WORKS.deposit_max_percent.value == 2 and WORKS.deposit_cap.value == 800000
    assert rules_for("goods").deposit_cap is None
    assert WORKS.min_bids.value == 3 and WORKS.publicity.value == 3


def test_max_deposit_applies_percentage_and_works_cap():
    assert WORKS.max_deposit(Decimal("1000000")) == Decimal("20000.00")
    assert WORKS.max_deposit(Decimal("100000000")) == Decimal("800000")  # 2 % would be 2,000,000
    assert rules_for("goods").max_deposit(Decimal("100000000")) == Decimal("2000000.00")


def test_unknown_procedure_refused():
    with pytest.raises(ValueError):
        rules_for("lottery")


def test_legal_period_and_acceleration(settings):
    assert legal_period(20) == timedelta(days=20)
    settings.SANDBOX_TIME_ACCELERATION = 1440
    assert legal_period(20) == timedelta(minutes=20)


@override_settings(PRODUCTION=True, SANDBOX_TIME_ACCELERATION=100)
def test_acceleration_refused_in_production():
    with pytest.raises(ImproperlyConfigured):
        legal_period(1)


@override_settings(PRODUCTION=True, SANDBOX_TIME_ACCELERATION=1)
def test_production_without_acceleration_is_fine():
    assert legal_period(1) == timedelta(days=1)


@override_settings(SANDBOX_TIME_ACCELERATION=0.5)
def test_acceleration_below_one_refused():
    with pytest.raises(ImproperlyConfigured):
        legal_period(1)


def test_working_days_skip_weekends():
    friday = datetime(2026, 11, 20, 10, 0, tzinfo=CST)
    assert add_working_days(friday, 1) == datetime(2026, 11, 23, 10, 0, tzinfo=CST)  # Monday
    assert add_working_days(friday, 5) == datetime(2026, 11, 27, 10, 0, tzinfo=CST)
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=CST)
    assert add_working_days(monday, -1) == friday
    # 5 working days always span a weekend here: 7 calendar days.
    assert GOVERNMENT_PROCUREMENT.documents_available.span_from(friday) == timedelta(days=7)
    wednesday = datetime(2026, 11, 25, 10, 0, tzinfo=CST)
    assert GOVERNMENT_PROCUREMENT.documents_available.after(wednesday) == datetime(2026, 12, 2, 10, 0, tzinfo=CST)
    # calendar days for the Bidding Law
    assert WORKS.documents_available.span_from(friday) == timedelta(days=5)


def test_working_days_accelerated(settings):
    settings.SANDBOX_TIME_ACCELERATION = 7 * 24 * 60  # a week becomes a minute
    friday = datetime(2026, 11, 20, 10, 0, tzinfo=CST)
    assert GOVERNMENT_PROCUREMENT.documents_available.span_from(friday) == timedelta(minutes=1)
