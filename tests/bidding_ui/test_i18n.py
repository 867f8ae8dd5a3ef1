"""Translations: the zh_Hans catalogs are complete (every entry translated, nothing fuzzy,
placeholders kept), the committed .mo files match the .po files, and pages render in
Chinese with zh-hans and in English with en. After adding strings: `make messages`,
translate, `make messages` again (docs/ui.md)."""

from __future__ import annotations

import ast
import gettext
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LOCALE = Path(settings.BASE_DIR) / "locale"
ZH = LOCALE / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|\{(\w+)\}")


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list), flags, obsolete."""
    entries: list[dict] = []
    entry: dict = {}
    field = None

    def flush():
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
            field = None
            continue
        if line.startswith("#~"):
            entry["obsolete"] = True
            continue
        if line.startswith("#,"):
            if "msgid" in entry:
                flush()
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += value
            else:
                entry[field[0]] += value
            continue
        value = ast.literal_eval(rest)
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            if keyword in ("msgctxt", "msgid") and "msgstr" in entry:
                flush()
            entry[keyword] = value
            field = (keyword, None)
        elif keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if "[" in keyword else 0
            strs = entry.setdefault("msgstr", [])
            while len(strs) <= index:
                strs.append("")
            strs[index] = value
            field = ("msgstr", index)
    flush()
    return entries


def catalogs() -> list[Path]:
    return sorted(ZH.glob("*.po"))


def test_catalogs_exist():
    names = {p.name for p in catalogs()}
    assert "django.po" in names, "run `make messages` (docs/ui.md)"
    assert (ZH / "django.mo").exists()


@pytest.mark.parametrize("po", catalogs(), ids=lambda p: p.name)
def test_every_entry_is_translated_and_none_is_fuzzy(po):
    entries = [e for e in parse_po(po) if e["msgid"] and not e.get("obsolete")]
    assert entries, f"{po} is empty"
    untranslated = [e["msgid"] for e in entries if not all(s.strip() for s in e.get("msgstr", [""]))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e.get("flags", set())]
    assert not untranslated, f"{len(untranslated)} untranslated in {po.name}, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries in {po.name}, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize("po", catalogs(), ids=lambda p: p.name)
def test_placeholders_are_kept(po):
    wrong = []
    for e in parse_po(po):
        if not e["msgid"] or e.get("obsolete"):
            continue
        wanted = {m.group(0) for m in PLACEHOLDER.finditer(e["msgid"] + e.get("msgid_plural", ""))}
        for s in e.get("msgstr", []):
            got = {m.group(0) for m in PLACEHOLDER.finditer(s)}
            if got != wanted and not (e.get("msgid_plural") and got <= wanted):
                wrong.append((e["msgid"], s))
    assert not wrong, f"placeholders differ: {wrong[:5]}"


@pytest.mark.parametrize("po", catalogs(), ids=lambda p: p.name)
def test_compiled_catalog_matches_the_po(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make messages`"
    with mo.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog
    keys = set()
    for e in parse_po(po):
        if not e["msgid"] or e.get("obsolete"):
            continue
        key = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        keys.add(key)
        if e.get("msgid_plural"):
            assert compiled.get((key, 0)) == e["msgstr"][0], f"{mo.name} is stale ({key!r}): run `make messages`"
        else:
            assert compiled.get(key) == e["msgstr"][0], f"{mo.name} is stale ({key!r}): run `make messages`"


@pytest.mark.django_db
def test_pages_render_in_chinese_and_in_english():
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/notices/").content.decode()
    assert '<html lang="zh-hans"' in zh
    assert "公共资源交易平台" in zh and "搜索" in zh and "Public Resource Trading Platform" not in zh
    en = Client(HTTP_ACCEPT_LANGUAGE="en").get("/notices/").content.decode()
    assert '<html lang="en"' in en
    assert "Public Resource Trading Platform" in en and "Search" in en and "公共资源交易平台" not in en


@pytest.mark.django_db
def test_the_default_language_is_chinese_and_the_switch_sticks(settings):
    from config import settings as production

    assert production.LANGUAGE_CODE == "zh-hans"
    settings.LANGUAGE_CODE = production.LANGUAGE_CODE  # tests default to English (config/settings_test.py)
    client = Client()
    assert "公共资源交易平台" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Public Resource Trading Platform" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "公共资源交易平台" in client.get("/").content.decode()


@pytest.mark.django_db
def test_javascript_catalog_in_chinese():
    js = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/jsi18n/").content.decode("utf-8")
    assert "deadline passed" in js
    assert "截止" in js or json.dumps("截止")[1:-1] in js
