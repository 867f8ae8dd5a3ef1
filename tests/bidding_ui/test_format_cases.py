"""One money and time formatting rule (docs/ui.md, "Money and times"): the template filters and
format.js give the same text for every shared case (tests/bidding_ui/js/format_cases.json); the JS
runs under Node in time zones other than the platform's, and still shows China Standard Time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

from bidding_ui.templatetags.ui import format_money, format_when

CASES_FILE = Path(__file__).parent / "js" / "format_cases.json"
DRIVER = Path(__file__).parent / "js" / "format_driver.mjs"
CASES = json.loads(CASES_FILE.read_text(encoding="utf-8"))


def _id(case: dict) -> str:
    return f"{case.get('value', case.get('iso'))!r}-{case.get('currency', case.get('precision'))}-{case['lang']}"


@pytest.mark.parametrize("case", CASES["money"], ids=_id)
def test_python_money_follows_the_shared_cases(case):
    assert format_money(case["value"], case["currency"], case["lang"]) == case["expected"]
    if case["expected"] and case["value"] is not None:
        # A Decimal from the database formats the same as its string.
        assert format_money(Decimal(case["value"].strip()), case["currency"], case["lang"]) == case["expected"]


@pytest.mark.parametrize("case", CASES["when"], ids=_id)
def test_python_times_follow_the_shared_cases(case, settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert format_when(case["iso"], case["precision"], case["lang"]) == case["expected"]


def test_the_filters_use_the_same_rule():
    with translation.override("en"):
        text = Template('{% load ui %}{{ a|money }} {{ t|when:"seconds" }}').render(
            Context({"a": Decimal("1.005"), "t": "2026-05-01T01:30:45Z"}))
    assert text == "¥1.01 1 May 2026, 09:30:45"


@pytest.fixture
def node():
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed")
    return path


@pytest.mark.parametrize("zone", ["America/New_York", "UTC", "Pacific/Kiritimati"])
def test_format_js_follows_the_shared_cases_in_any_browser_zone(node, zone):
    env = {**os.environ, "TZ": zone}
    proc = subprocess.run([node, str(DRIVER), str(CASES_FILE)], capture_output=True, text=True, env=env,  # noqa: S603
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["zone"] == zone  # the browser's zone really is another one
    assert out["money"] == [c["expected"] for c in CASES["money"]]
    assert out["when"] == [c["expected"] for c in CASES["when"]]
