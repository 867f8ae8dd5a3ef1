"""The socket command pool: results and exceptions come back, work runs beside the shared database
thread, and a worker's connection is given back after the idle time."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from django.db import connection, connections

from realtime import command_pool
from realtime.command_pool import CommandPool, run_command

pytestmark = [pytest.mark.django_db(transaction=True)]


def _query() -> tuple[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return threading.current_thread().name, cursor.fetchone()[0]


def _boom() -> None:
    raise ValueError("refused")


@pytest.mark.asyncio
async def test_results_and_exceptions_come_back_from_worker_threads(settings):
    settings.REALTIME_COMMAND_THREADS = 2
    name, value = await run_command(_query)
    assert value == 1 and name.startswith(command_pool.THREAD_PREFIX)
    with pytest.raises(ValueError, match="refused"):
        await run_command(_boom)
    assert (await run_command(_query))[1] == 1  # the worker survived the exception


@pytest.mark.asyncio
async def test_async_to_sync_inside_a_command_runs_on_the_servers_loop():
    """The on-commit push of a stream event (async_to_sync(group_send)) must use the server's loop
    and its channel-layer connections, not a loop of its own."""
    from asgiref.sync import async_to_sync

    async def which_loop():
        return asyncio.get_running_loop()

    assert await run_command(async_to_sync(which_loop)) is asyncio.get_running_loop()


@pytest.mark.asyncio
async def test_commands_run_side_by_side_up_to_the_pool_size(settings):
    settings.REALTIME_COMMAND_THREADS = 3
    gate = threading.Barrier(3, timeout=10)

    def meet() -> str:
        gate.wait()  # only returns when three commands run at the same time
        return threading.current_thread().name

    names = await asyncio.gather(*(run_command(meet) for _ in range(3)))
    assert len(set(names)) == 3


def test_an_idle_worker_closes_its_connection():
    pool = CommandPool(threads=1, idle_seconds=0.5)
    try:
        holder: dict = {}

        def remember() -> None:
            _query()
            holder["conn"] = connections["default"]  # this thread's own wrapper
        pool.submit(remember).result(10)
        assert holder["conn"].connection is not None  # kept while busy
        deadline = time.monotonic() + 10
        while holder["conn"].connection is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert holder["conn"].connection is None  # closed after 0.5 s without work
        assert pool.submit(_query).result(10)[1] == 1  # and opened again on demand
    finally:
        pool.shutdown()
    assert not [t for t in pool.threads if t.is_alive()]
