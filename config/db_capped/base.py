"""PostgreSQL with a per-process connection budget.

Django's `postgresql` backend, plus one rule: a process never holds more than
`DATABASES[alias]["MAX_CONNECTIONS"]` open connections to the database at once.
Under ASGI every request runs its sync code in a thread of its own, and every
thread opens its own connection (PITFALLS.md), so the number of connections is
otherwise the number of concurrent requests. Here a process-wide semaphore is
taken when a connection is opened and given back when it is closed; a thread
that finds no free slot waits `CONNECTION_WAIT_SECONDS` and then raises
`ConnectionBudgetExhausted` (an `OperationalError`), which the web answers with
503 + Retry-After (config/shedding.py).

The budget only holds if connections are closed when the work ends: the web runs
with `CONN_MAX_AGE = 0` (settings `DB_CONN_MAX_AGE`), so Django closes the
connection at the end of every request (and channels' `database_sync_to_async`
after every call). A thread that dies with its connection open keeps its slot
until the connection object is garbage-collected; `CONN_MAX_AGE > 0` in a threaded
server would therefore exhaust the budget, and settings refuse that combination.
"""

from __future__ import annotations

import threading
import weakref

from django.db import OperationalError
from django.db.backends.postgresql import base

_LOCK = threading.Lock()
_BUDGETS: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_OPEN: dict[str, int] = {}


class ConnectionBudgetExhausted(OperationalError):
    """No connection slot became free within the wait: the process is at its database budget."""


def _budget(alias: str, cap: int) -> threading.BoundedSemaphore:
    with _LOCK:
        key = (alias, cap)
        if key not in _BUDGETS:
            _BUDGETS[key] = threading.BoundedSemaphore(cap)
        return _BUDGETS[key]


def open_connections(alias: str = "default") -> int:
    """How many connections of `alias` this process holds open now (for tests and /health)."""
    with _LOCK:
        return _OPEN.get(alias, 0)


def _releaser(alias: str, slot: threading.BoundedSemaphore):
    """Give the slot back exactly once (explicit close or garbage collection, whichever is first)."""
    state = {"released": False}

    def release() -> None:
        with _LOCK:
            if state["released"]:
                return
            state["released"] = True
            _OPEN[alias] = _OPEN.get(alias, 1) - 1
        slot.release()

    return release


class DatabaseWrapper(base.DatabaseWrapper):
    _release_slot = None

    def _cap(self) -> int:
        return int(self.settings_dict.get("MAX_CONNECTIONS") or 0)

    def get_new_connection(self, conn_params):
        cap = self._cap()
        if cap <= 0:
            return super().get_new_connection(conn_params)
        slot = _budget(self.alias, cap)
        wait = float(self.settings_dict.get("CONNECTION_WAIT_SECONDS", 5))
        if not slot.acquire(timeout=wait):
            raise ConnectionBudgetExhausted(
                f"database connection budget exhausted: {cap} connections of this process are in use"
            )
        try:
            connection = super().get_new_connection(conn_params)
        except BaseException:
            slot.release()
            raise
        with _LOCK:
            _OPEN[self.alias] = _OPEN.get(self.alias, 0) + 1
        release = _releaser(self.alias, slot)
        self._release_slot = release
        # A connection dropped without close() (its thread ended) still gives its slot back
        # when it is garbage-collected. The callback must not refer to the wrapper (it holds
        # the connection, which would then never be collected).
        weakref.finalize(connection, release)
        return connection

    def _close(self):
        try:
            super()._close()
        finally:
            release = getattr(self, "_release_slot", None)
            if release is not None:
                self._release_slot = None
                release()
