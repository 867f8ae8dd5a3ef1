"""One registry of every legal number and source (`manage.py rules`), wherever the constants live (issue 16)."""

from __future__ import annotations

import importlib
import io
import json

from django.core.management import call_command

from trading.rules import RULE_MODULES, LegalNumber, rules_registry


def test_every_rules_module_is_registered():
    assert {"trading.rules", "trading.opening.rules", "trading.evaluation.rules", "experts.rules",
            "trading.retention"} <= set(RULE_MODULES)


def test_every_legal_number_of_every_module_is_listed_with_its_source():
    listed = {(e.value, e.source, e.comment) for e in rules_registry()}
    for name in RULE_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, LegalNumber):  # private ones too: they are reached through the tables
                assert (value.describe(), value.source, value.comment) in listed, f"{name}.{attr}"


def test_the_command_prints_numbers_with_sources_and_json():
    out = io.StringIO()
    call_command("rules", stdout=out)
    text = out.getvalue()
    assert "works.documents_to_deadline" in text and "20 days" in text and "招标投标法 Art 24" in text
    assert "experts.rules.COMMITTEE_MIN" in text and "招标投标法 Art 37" in text
    assert "trading.retention.RETENTION" in text and "15 years" in text and "政府采购法 Art 42" in text
    assert "government_procurement.contract_within" in text
    out = io.StringIO()
    call_command("rules", "--json", "--search", "Art 42", stdout=out)
    rows = json.loads(out.getvalue())
    assert rows and all("Art 42" in r["source"] for r in rows)
    assert {"key", "value", "source", "comment", "module"} == set(rows[0])
