"""Messages built from a translated template and inserted values are Chinese throughout in zh-hans:
durations ("20 日", ngettext), role names (lazy translations), legal citations ("招标投标法第23条",
config/citations.py) — no "最短不得少于 20 days", no "the tender agent 的密钥保管人"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from config.citations import cite
from config.errors import RuleViolation
from tests.bidding_ui.test_i18n_catalogue import english_words
from trading.rules import DAYS, WORKING_DAYS, quantity, rules_for

DAY = timedelta(days=1)


@pytest.fixture
def chinese():
    with translation.override("zh-hans"):
        yield


def test_every_legal_number_reads_in_the_language(chinese):
    from trading.models import ProcedureType

    for procedure in ProcedureType.values:
        rules = rules_for(procedure)
        for name, number in vars(rules).items():
            if hasattr(number, "display"):
                assert not english_words(number.display()), (procedure, name, number.display())
    assert quantity(20, DAYS) == "20 日" and quantity(5, WORKING_DAYS) == "5 个工作日"
    with translation.override("en"):
        assert quantity(1, DAYS) == "1 day" and quantity(20, DAYS) == "20 days"
        assert rules_for("works").documents_to_deadline.display() == "20 days"
    assert rules_for("works").documents_to_deadline.describe() == "20 days"  # language-neutral for logs


def test_legal_citations_follow_the_language():
    assert cite("（招标投标法 Art 23）", "zh-hans") == "（招标投标法第23条）"
    assert cite("招标投标法实施条例 Art 40(四); 政府采购法 Art 36", "zh-hans") == (
        "招标投标法实施条例第40条(四); 政府采购法第36条")
    assert cite("(招标投标法 Art 23)", "en") == "(招标投标法 Art 23)"
    assert cite("see Art 5 of the rules", "zh-hans") == "see Art 5 of the rules"  # only after a law's name


@pytest.mark.django_db
def test_a_late_amendment_is_refused_in_chinese_only(published, cast, clock, chinese):
    from trading.services.notices import amendment_publish

    clock.move_to(published.bid_deadline - 10 * DAY)
    with pytest.raises(RuleViolation) as exc:
        amendment_publish(actor=cast.agent, tender=published, title="A", body="B", affects_preparation=True)
    message = exc.value.message
    assert "15 日" in message and "招标投标法第23条" in message
    assert not english_words(message), message


@pytest.mark.django_db
def test_missing_key_custodians_are_named_in_chinese(published, chinese):
    from accounts.models import UserRole
    from accounts.roles import Role
    from trading.bids.ceremony import custodians_for

    UserRole.objects.filter(role=Role.CUSTODIAN).delete()  # nobody appointed
    with pytest.raises(RuleViolation) as exc:
        custodians_for(published)
    message = exc.value.message
    assert "招标代理机构" in message and "the tender agent" not in message
    assert not english_words(message), message
