"""Worker threads for socket commands, beside the consumers' shared database thread.

Channels' `database_sync_to_async` is thread-sensitive: in a server process every call of every
socket runs on one thread, one after the other, and opens and closes a database connection each
time (CONN_MAX_AGE = 0 under ASGI, config/db_capped). For a command a room receives in bursts (a
bid in the last seconds of an auction countdown: 200 a second), that single queue puts the
commands of one socket behind those of every other, and the connection set-up (≈ 4.5 ms here)
behind each.

`run_command(fn, *args)` runs `fn` on one of `REALTIME_COMMAND_THREADS` worker threads of the
process instead. Each worker keeps its database connection while it is busy and closes it after
`REALTIME_COMMAND_IDLE_SECONDS` without work (and at once when the connection broke), so the pool
holds at most that many of the process's `DB_MAX_CONNECTIONS` budget, and none when idle. The
commands still serialize where the rules say they must (the trade's row lock): the pool only
stops unrelated work from queueing behind them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections

T = TypeVar("T")
THREAD_PREFIX = "realtime-command"
_STOP = object()


def _tidy_after_error() -> None:
    """Close a connection an error left unusable (Django's close_old_connections, minus the age rule)."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and (conn.in_atomic_block or (conn.errors_occurred
                                                                     and not conn.is_usable())):
            conn.close()


class CommandPool:
    def __init__(self, threads: int, idle_seconds: float) -> None:
        self.size, self.idle_seconds = max(1, threads), idle_seconds
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], *args: Any,
               loop: asyncio.AbstractEventLoop | None = None) -> concurrent.futures.Future:
        """Queue `fn(*args)`. `loop`: the server's event loop, where `async_to_sync` calls made by
        `fn` run (the on-commit push of a stream event), as in asgiref's own worker threads."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if len(self.threads) < self.size:
                thread = threading.Thread(target=self._work, name=f"{THREAD_PREFIX}-{len(self.threads)}",
                                          daemon=True)
                self.threads.append(thread)
                thread.start()
        self.queue.put((future, fn, args, loop))
        return future

    def _work(self) -> None:
        holding = False
        while True:
            try:
                item = self.queue.get(timeout=self.idle_seconds) if holding else self.queue.get()
            except queue.Empty:
                connections.close_all()  # idle: give the connection back to the budget
                holding = False
                continue
            if item is _STOP:
                connections.close_all()
                return
            future, fn, args, loop = item
            if not future.set_running_or_notify_cancel():
                continue
            holding = True
            # asgiref's AsyncToSync looks here for the loop to run coroutines on; without it every
            # async_to_sync call would start an event loop of its own (and channels-redis a new pool).
            local = SyncToAsync.threadlocal
            local.main_event_loop, local.main_event_loop_pid = loop, os.getpid()
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                _tidy_after_error()
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                local.main_event_loop = local.main_event_loop_pid = None

    def shutdown(self) -> None:
        with self._lock:
            threads, self.threads = self.threads, []
        for _thread in threads:
            self.queue.put(_STOP)
        for thread in threads:
            thread.join()


_POOL: CommandPool | None = None
_POOL_LOCK = threading.Lock()


def command_pool() -> CommandPool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = CommandPool(int(getattr(settings, "REALTIME_COMMAND_THREADS", 3)),
                                float(getattr(settings, "REALTIME_COMMAND_IDLE_SECONDS", 5.0)))
        return _POOL


async def run_command(fn: Callable[..., T], *args: Any) -> T:
    """Run the sync `fn(*args)` on the command pool and await its result (exceptions re-raised)."""
    return await asyncio.wrap_future(command_pool().submit(fn, *args, loop=asyncio.get_running_loop()))


def command_pool_shutdown() -> None:
    """Stop the workers, closing their connections (process exit, test session end)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown()
