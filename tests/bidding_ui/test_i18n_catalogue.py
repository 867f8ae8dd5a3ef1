"""No mixed-language message (docs/ui.md, "Translations"): the zh_Hans and en catalogues hold the
same messages, the Chinese translations contain no English words (code identifiers, protocol names
and units excepted: ALLOWED below), and the English ones no Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.bidding_ui.test_i18n import parse_po

LOCALE = Path(settings.BASE_DIR) / "locale"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Words allowed inside a Chinese message: names of standards, protocols, formats, units, keyboard
# keys and request/field names that a user types or sees in code (each is the same in every language).
ALLOWED = {
    "API", "SHA", "UTC", "CST", "CSV", "JSON", "PEM", "DER", "SPKI", "SubjectPublicKeyInfo", "base64", "ID",
    "IP", "OCDS", "SBE1", "AES", "GCM", "P-256", "DEK", "CSRF", "GET", "POST", "PDF", "URL", "HTTP",
    "Webhook", "GB", "T", "Home", "End", "C", "D", "x", "r", "s", "CNY",
    # request parameters and field values named in API error messages
    "tender", "action", "return", "assign", "close", "prev", "ocid",
    # column names of the bank statement CSV format
    "amount", "currency", "direction", "reference",
}
# Removed before looking for words: placeholders, markup, code spans, URLs and paths, identifiers
# (with _ . / - or digits inside), HTTP header names, hashes and versions.
STRIP = [
    re.compile(r"%\(\w+\)[sdr]|\{\w+\}"),
    re.compile(r"<code>.*?</code>", re.S),
    re.compile(r"<[^>]+>|&\w+;"),
    re.compile(r"https?://\S+|(?<!\w)/[\w./<>?=-]+"),
    re.compile(r"`[^`]*`"),
    re.compile(r"\"[A-Za-z_]+\""),  # JSON keys and values quoted in an example
    re.compile(r"\b\w+/[\w./-]+"),  # relative paths (docs/experts.md)
    re.compile(r"\b[A-Za-z][\w-]*[_.][\w.-]*\b"),
    re.compile(r"\bX-[A-Za-z-]+|\bContent-[A-Za-z]+|application/[\w-]+"),
    re.compile(r"\b[A-Za-z]+-?\d+[\w-]*\b"),
]
WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def english_words(text: str) -> set[str]:
    for pattern in STRIP:
        text = pattern.sub(" ", text)
    return {w for w in WORD.findall(text) if w not in ALLOWED}


def entries(language: str, domain: str) -> list[dict]:
    return [e for e in parse_po(LOCALE / language / "LC_MESSAGES" / f"{domain}.po")
            if e["msgid"] and not e.get("obsolete")]


def key(e: dict) -> tuple:
    return e.get("msgctxt"), e["msgid"]


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_both_catalogues_hold_the_same_messages(domain):
    zh, en = {key(e) for e in entries("zh_Hans", domain)}, {key(e) for e in entries("en", domain)}
    assert not zh - en, f"missing in the en catalogue: {sorted(zh - en)[:5]}"
    assert not en - zh, f"missing in the zh_Hans catalogue: {sorted(en - zh)[:5]}"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_chinese_translations_contain_no_english_words(domain):
    mixed = {}
    for e in entries("zh_Hans", domain):
        for text in e.get("msgstr", []):
            words = english_words(text)
            if words:
                mixed[e["msgid"]] = sorted(words)
    assert not mixed, f"{len(mixed)} Chinese messages with English words: {list(mixed.items())[:5]}"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_english_catalogue_has_no_chinese(domain):
    assert not [e["msgid"] for e in entries("en", domain) if any(CJK.search(s) for s in e.get("msgstr", []))]


def test_the_word_check_does_catch_english():
    assert english_words("最短不得少于 20 days") == {"days"}
    assert english_words("the tender agent 的密钥保管人") == {"the", "agent"}  # "tender" is a parameter name
    assert english_words("内容 SHA-256，见 <code>python manage.py rules</code> 与 /api/v1/ocds/bulk") == set()
