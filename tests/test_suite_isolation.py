"""The suite's own guarantees (docs/testing.md): one stopped clock that only the test moves, Celery's
eager join guard per thread, and the check that no thread outlives its test."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from celery import shared_task
from django.utils import timezone

from tests.fixtures.clock import Clock
from tests.fixtures.isolation import threads_left
from trading import clock as trading_clock

_inside = threading.Event()
_release = threading.Event()


@shared_task(name="tests.suite_isolation.hold")
def hold() -> str:
    """Stays inside the (eager) task until the test releases it."""
    _inside.set()
    assert _release.wait(30)
    return "held"


@shared_task(name="tests.suite_isolation.echo")
def echo(value: int) -> int:
    return value


@shared_task(name="tests.suite_isolation.join_inside")
def join_inside() -> str:
    return echo.apply(args=(1,)).get()  # joining another task from inside a task: refused by Celery


@pytest.fixture
def _held():
    _inside.clear(), _release.clear()
    yield
    _release.set()


def test_the_clock_stands_still_until_moved(clock):
    first = trading_clock.now()
    assert first == clock.now()
    assert trading_clock.now() == first  # no time passes on its own, however slow the machine
    assert clock.advance(days=20, seconds=1) == first + timedelta(days=20, seconds=1) == trading_clock.now()
    assert trading_clock.deadline_now() == trading_clock.now()  # deadlines follow the replaced clock
    earlier = first - timedelta(days=3)
    assert clock.move_to(earlier) == trading_clock.now() == earlier
    with pytest.raises(ValueError, match="forward"):
        clock.advance(seconds=-1)
    with pytest.raises(ValueError, match="aware"):
        clock.move_to(timezone.now().replace(tzinfo=None))


def test_the_clock_starts_at_the_real_time_and_reads_the_same_in_every_thread():
    c = Clock()
    assert abs(c.now() - timezone.now()) < timedelta(seconds=2)
    seen = []
    t = threading.Thread(target=lambda: seen.append(c.now()))
    t.start(), t.join()
    assert seen == [c.now()]


def test_joining_a_task_from_inside_an_eager_task_is_still_refused():
    with pytest.raises(RuntimeError, match="Never call result.get"):
        join_inside.delay()


def test_an_eager_task_on_another_thread_does_not_block_joins_here(_held):
    worker = threading.Thread(target=hold.delay, name="eager-task-thread")
    worker.start()
    try:
        assert _inside.wait(30)
        # With Celery's process-global flag this get() fails: the other thread is "within a task".
        assert echo.delay(7).get() == 7
    finally:
        _release.set()
        worker.join(30)


@shared_task(name="tests.suite_isolation.hold_key")
def hold_key(key: str) -> str:
    _entered[key].set()
    assert _leave[key].wait(30)
    return key


_entered = {"a": threading.Event(), "b": threading.Event()}
_leave = {"a": threading.Event(), "b": threading.Event()}


def test_overlapping_eager_tasks_in_threads_leave_no_flag_behind():
    """A enters, B enters, A leaves, B leaves: with one process-wide flag, B restores the True it saw
    on entry and every later join in the process is refused."""
    from celery.result import task_join_will_block

    threads = {key: threading.Thread(target=hold_key.delay, args=(key,), name=f"eager-{key}") for key in "ab"}
    try:
        for key in "ab":
            threads[key].start()
            assert _entered[key].wait(30)
        for key in "ab":
            _leave[key].set()
            threads[key].join(30)
        assert task_join_will_block() is False
        assert echo.delay(3).get() == 3
    finally:
        for key in "ab":
            _leave[key].set()
            threads[key].join(30)
            _entered[key].clear(), _leave[key].clear()


def test_threads_left_reports_a_running_thread_and_not_a_finished_one():
    before = set(threading.enumerate())
    stop = threading.Event()
    quick = threading.Thread(target=lambda: None, name="quick")
    stuck = threading.Thread(target=stop.wait, args=(30,), name="stuck", daemon=True)
    quick.start(), stuck.start()
    try:
        assert threads_left(before, grace=0.5) == [stuck]
    finally:
        stop.set()
        stuck.join(30)
    assert threads_left(before, grace=0.5) == []
