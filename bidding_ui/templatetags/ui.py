"""Shared template helpers of the UI shell: `{% load ui %}`.

Filters
    {{ amount|money }}            "1,234,567.89 元" (zh-hans) / "¥1,234,567.89" (en); other currencies by code
    {{ amount|money:"USD" }}      "USD 1,234.00" in every language
    {{ amount|money_upper }}      人民币大写金额 "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分" (bid forms, read-outs)
    {{ moment|when }}             local date and time for the active language, to the minute
    {{ moment|when:"seconds" }}   ... to the second (deadlines); "date" for the date only
    {{ seconds|duration }}        "3 days 04:05:06" / "3天 04:05:06"

Tags
    {% status_badge obj.status obj.get_status_display %}   a coloured badge; tone from STATUS_TONES
    {% countdown tender.bid_deadline %}                    live countdown (bidding_ui/ui.js) with a server fallback
    {% progress done total label %}                        an accessible <progress> with its text

All money is Decimal; nothing here goes through float.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

CENT = Decimal("0.01")

# --- money -----------------------------------------------------------------------------------------


# The decimal grammar both formatters accept (bidding_ui/static/bidding_ui/format.js `DECIMAL`):
# an optional sign, digits, an optional fraction; surrounding spaces ignored; no exponent.
DECIMAL_RE = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?$")


def _decimal(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        value = format(value, "f") if value.is_finite() else ""
    elif isinstance(value, float):  # never expected; keep the shown digits, not the binary value
        value = repr(value)
    text = str(value).strip()
    match = DECIMAL_RE.match(text)
    if not match or not (match[2] or match[3]):
        return None
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return None


def _is_chinese(language: str | None = None) -> bool:
    return (language or translation.get_language() or "").lower().startswith("zh")


def format_money(value, currency: str = "CNY", language: str | None = None) -> str:
    """Grouped, two decimals, rounded half up; the currency written the way the language writes it.

    The rule of docs/ui.md ("Money and times"), shared with format.js `formatMoney` and tested against
    the same cases (tests/bidding_ui/js/format_cases.json)."""
    amount = _decimal(value)
    if amount is None:
        return ""
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}"
    currency = (currency or "CNY").upper()
    if currency != "CNY":
        return f"{sign}{currency} {digits}"
    if _is_chinese(language):
        return f"{sign}{digits} 元"
    return f"{sign}¥{digits}"


@register.filter
def money(value, currency: str = "CNY") -> str:
    return format_money(value, currency)


_CN_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CN_UNITS = ["", "拾", "佰", "仟"]
_CN_SECTIONS = ["", "万", "亿", "万亿"]


def _cn_section(n: int) -> str:
    """0 < n < 10000 in capital numerals; inner zeros collapse to one 零."""
    out = []
    zero = False
    for pos in range(3, -1, -1):
        d = (n // 10**pos) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_CN_DIGITS[d] + _CN_UNITS[pos])
    return "".join(out)


def money_in_chinese_capitals(value) -> str:
    """人民币大写 as written on bid forms and receipts (GB/T financial convention).

    1234567.89 → 壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分; 100 → 壹佰元整; 1000.05 → 壹仟元零伍分.
    """
    amount = _decimal(value)
    if amount is None:
        return ""
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    prefix = "负" if amount < 0 else ""
    amount = abs(amount)
    yuan = int(amount)
    cents = int((amount - yuan) * 100)
    jiao, fen = divmod(cents, 10)
    if yuan >= 10**16:
        return ""  # beyond 万亿; no such amount on this platform (max_digits=18 includes the cents)
    parts = []
    sections = []
    n = yuan
    while n:
        sections.append(n % 10000)
        n //= 10000
    need_zero = False
    for idx in range(len(sections) - 1, -1, -1):
        sec = sections[idx]
        if sec == 0:
            need_zero = bool(parts)
            continue
        if parts and (need_zero or sec < 1000):
            parts.append("零")
        parts.append(_cn_section(sec) + _CN_SECTIONS[idx])
        need_zero = False
    integer = "".join(parts)
    if not integer and not cents:
        return prefix + "零元整"
    out = integer + "元" if integer else ""
    if cents == 0:
        return prefix + out + "整"
    if jiao:
        out += _CN_DIGITS[jiao] + "角"
    elif integer:
        out += "零"
    if fen:
        out += _CN_DIGITS[fen] + "分"
    return prefix + out


@register.filter
def money_upper(value) -> str:
    return money_in_chinese_capitals(value)


# --- dates and durations -------------------------------------------------------------------------------

# Formats per language (django.utils.dateformat codes). Chinese platforms write 2026年5月1日 09:30;
# English pages 1 May 2026, 09:30. Times are local (Asia/Shanghai, settings.TIME_ZONE).
# The same formats in format.js `formatWhen` (shared cases: tests/bidding_ui/js/format_cases.json).
WHEN_FORMATS = {
    "zh": {"minutes": "Y年n月j日 H:i", "seconds": "Y年n月j日 H:i:s", "date": "Y年n月j日", "time": "H:i:s"},
    "en": {"minutes": "j M Y, H:i", "seconds": "j M Y, H:i:s", "date": "j M Y", "time": "H:i:s"},
}


def format_when(value, precision: str = "minutes", language: str | None = None) -> str:
    """A datetime (or an ISO 8601 instant with its offset) in the platform's zone, settings.TIME_ZONE."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return ""
        if timezone.is_naive(value):
            return ""  # a bare local time names no instant
    formats = WHEN_FORMATS["zh" if _is_chinese(language) else "en"]
    fmt = formats.get(precision or "minutes", formats["minutes"])
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
    elif not isinstance(value, date):
        return str(value)
    if language:
        with translation.override(language):
            return date_format(value, fmt)
    return date_format(value, fmt)


@register.filter
def when(value, precision: str = "minutes") -> str:
    return format_when(value, precision)


def format_duration(seconds) -> str:
    """'3 days 04:05:06' / '3天 04:05:06'; under a day just 'HH:MM:SS'. Negative → 0."""
    try:
        total = max(0, int(seconds))
    except (TypeError, ValueError):
        return ""
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if not days:
        return clock
    return ngettext("%(days)s day", "%(days)s days", days) % {"days": days} + " " + clock


@register.filter
def duration(seconds) -> str:
    return format_duration(seconds)


# --- status badges -------------------------------------------------------------------------------------

# Status value → tone (CSS class on .badge). Unknown statuses get the neutral badge.
# ok = going well or done; warn = needs someone's action or waiting; bad = failed, refused, late; info = running.
STATUS_TONES: dict[str, str] = {
    # tenders
    "draft": "warn", "published": "ok", "bidding_closed": "info", "opening": "info", "evaluating": "info",
    "publicity": "info", "awarded": "ok", "contracted": "ok", "archived": "", "failed": "bad",
    "cancelled": "bad", "suspended": "bad",
    # registrations, deposits, bids, questions, objections, assignments, steps
    "registered": "ok", "withdrawn": "", "pending": "warn", "paid": "ok", "confirmed": "ok", "received": "ok",
    "refunded": "", "forfeited": "bad", "submitted": "ok", "sealed": "info", "decrypted": "ok", "rejected": "bad",
    "invalid": "bad", "open": "warn", "answered": "ok", "replied": "ok", "overdue": "bad", "notified": "warn",
    "accepted": "ok", "declined": "bad", "timed_out": "bad", "released": "", "done": "ok", "verified": "ok",
    "broken": "bad", "late": "bad",
}


def status_tone(status) -> str:
    return STATUS_TONES.get(str(status or ""), "")


@register.simple_tag
def status_badge(status, label=None):
    """<span class="badge ok" data-status="published">Published</span>."""
    tone = status_tone(status)
    return format_html(
        '<span class="badge{}" data-status="{}">{}</span>', f" {tone}" if tone else "", status or "", label or status
    )


# --- countdowns and progress ----------------------------------------------------------------------------


@register.simple_tag
def countdown(deadline, passed_text=None):
    """A live countdown to `deadline` (aware datetime). ui.js updates it every second from the
    server's clock (body[data-server-now]); without JS the server-computed remainder stays."""
    if not isinstance(deadline, datetime):
        return ""
    now = timezone.now()
    remaining = (deadline - now).total_seconds()
    passed = passed_text or _("deadline passed")
    text = format_duration(remaining) if remaining > 0 else passed
    return format_html(
        '<time class="countdown{}" role="timer" datetime="{}" data-countdown="{}" data-passed-text="{}" '
        'title="{}">{}</time>',
        "" if remaining > 0 else " passed",
        deadline.isoformat(),
        deadline.isoformat(),
        passed,
        format_when(deadline, "seconds"),
        text,
    )


@register.simple_tag
def progress(value, maximum=100, label=""):
    """<progress> with a visible percentage and an accessible name."""
    done = _decimal(value) or Decimal(0)
    top = _decimal(maximum) or Decimal(100)
    pct = int((done * 100 / top).to_integral_value(rounding=ROUND_HALF_UP)) if top > 0 else 0
    pct = max(0, min(100, pct))
    return format_html(
        '<span class="progress"><progress value="{}" max="{}" aria-label="{}">{}%</progress>'
        '<span class="progress-text" aria-hidden="true">{}%</span></span>',
        done,
        top,
        label or _("Progress"),
        pct,
        pct,
    )
