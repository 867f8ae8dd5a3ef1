"""The one source of "now" for trading.

Every service, handler and visibility rule of the trading app asks `clock.now()`
(call it through the module, `from trading import clock; clock.now()`, so that a
test can `monkeypatch.setattr(clock, "now", ...)` to move time).

Deadline decisions ask `clock.deadline_now()` instead: bid acceptance and
withdrawal, registration and every `assert_before_deadline`, amendments, guarantee
letters, deposit sealing, the deadline step and the first decryption. On
PostgreSQL it is the database's clock (`statement_timestamp()`: the time the
statement reached the server, which, unlike `now()`, advances inside a
transaction; so a bid that waited for the tender's row lock is judged at the
moment it got it), so two web hosts or a worker with skewed clocks agree on the
deadline: they all ask the one database. On SQLite (one host) it is the server's
clock. When `now` has been replaced (a test's controllable clock, a demo's
accelerated clock), that replacement decides deadlines too, on every database.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone

from trading import sandbox


def now() -> datetime:
    return timezone.now() + sandbox.offset()


_SERVER_NOW = now


def database_now() -> datetime:
    """The database server's clock: `statement_timestamp()` on PostgreSQL, this host's clock on SQLite."""
    if connection.vendor != "postgresql":
        return timezone.now() + sandbox.offset()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        return cursor.fetchone()[0] + sandbox.offset()


def deadline_now() -> datetime:
    """The time a deadline is decided by: the replaced `now` if a controllable clock is set, else the database's."""
    if now is not _SERVER_NOW:
        return now()
    return database_now()
