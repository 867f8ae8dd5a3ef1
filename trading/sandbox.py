"""The sandbox clock: real time plus an offset an operator advances (docs/configuration.md, "Sandbox clock").

`manage.py sandbox advance 20d` moves the sandbox's "now" 20 days ahead for every process at once:
the offset is stored in the database (`SandboxClock`, one row; the record) and in the cache (Redis
with `REDIS_URL`, the shared file cache otherwise; the fast path), and `trading.clock.now()` and
`trading.clock.deadline_now()` add it. A process re-reads it at most once a second (`REFRESH_SECONDS`),
so web, worker and beat agree within a second; on a cache miss it reads the database row (never from
async code, where it keeps the last value it knew). The offset only grows: time never runs back,
so nothing already decided (a closed deadline, a signed record) can come undone. Every advance is an
audit event (`sandbox.clock_advanced`, with the offset before and after).

Only with `settings.SANDBOX_CLOCK` on (the default outside production; refused in production, like
the acceleration factors): with it off the offset is 0 and nothing is read.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, SynchronousOnlyOperation
from django.db import DatabaseError, transaction
from django.utils import timezone

CACHE_KEY = "ptrade:sandbox-clock-offset"
REFRESH_SECONDS = 1.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}

_memo = threading.local()


def enabled() -> bool:
    on = bool(getattr(settings, "SANDBOX_CLOCK", False))
    if on and getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("SANDBOX_CLOCK cannot be on in production")
    return on


def parse_duration(text: str) -> timedelta:
    """'20d', '3h', '1d12h', '90s', '15m' → timedelta; anything else is a ValueError."""
    compact = (text or "").strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(value + unit for value, unit in parts) != compact:
        raise ValueError(f"{text!r} is not a duration like 20d, 3h, 1d12h, 15m or 90s")
    return sum((timedelta(**{_UNITS[unit]: float(value)}) for value, unit in parts), timedelta())


def _stored_seconds() -> float:
    from trading.models import SandboxClock

    with transaction.atomic():  # a savepoint: a failed read (no table before migrate) spoils nothing
        row = SandboxClock.objects.filter(pk=1).first()
    return float(row.offset_seconds) if row else 0.0


def offset() -> timedelta:
    """How far the sandbox clock is ahead of the real one (0 when SANDBOX_CLOCK is off)."""
    if not enabled():
        return timedelta()
    now = time.monotonic()
    memo = getattr(_memo, "value", None)
    if memo is not None and now - memo[1] < REFRESH_SECONDS:
        return timedelta(seconds=memo[0])
    seconds = cache.get(CACHE_KEY)
    if seconds is None:
        try:
            seconds = _stored_seconds()
        except (SynchronousOnlyOperation, DatabaseError):
            # async code, or no table yet (before migrate): keep what this thread last knew
            seconds = memo[0] if memo is not None else 0.0
        else:
            cache.set(CACHE_KEY, seconds, None)
    _memo.value = (float(seconds), now)
    return timedelta(seconds=float(seconds))


def forget() -> None:
    """Drop this thread's memo (the next `offset()` reads the cache)."""
    _memo.value = None


@transaction.atomic
def sandbox_clock_advance(*, actor, by: timedelta):
    """Move the sandbox clock `by` ahead for every process; an audit event. Returns the SandboxClock row."""
    from audit.services import audit_record
    from config.errors import DomainError
    from trading.models import SandboxClock

    if not enabled():
        raise DomainError("The sandbox clock is off (SANDBOX_CLOCK=0, or production).", code="sandbox_clock_off")
    seconds = int(by.total_seconds())  # whole seconds
    if seconds < 1:
        raise DomainError("The sandbox clock only moves forward, by a second or more.", code="invalid")
    row, _created = SandboxClock.objects.select_for_update().get_or_create(pk=1)
    before = int(row.offset_seconds)
    row.offset_seconds = before + seconds
    row.advanced_at = timezone.now()
    row.save()
    audit_record(
        actor=actor,
        action="sandbox.clock_advanced",
        obj=row,
        data={"by_seconds": seconds, "offset_before_seconds": before, "offset_after_seconds": before + seconds},
    )
    after = before + seconds
    transaction.on_commit(lambda: (cache.set(CACHE_KEY, after, None), forget()))
    return row
