"""Fault tests (`make test-faults`): own PostgreSQL and Redis, started and stopped here (stack.py)."""

from __future__ import annotations

import pytest

from tests.faults.stack import Stack, Unavailable


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/faults/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def stack():
    try:
        s = Stack()
    except Unavailable as exc:
        pytest.skip(f"fault stack unavailable: {exc}")
    try:
        s.pg_init()
        s.redis_start()
        s.migrate()
        s.web_start()
        s.worker_start()
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def world(stack):
    """A published tender with 5 bidders, 4 small sealed envelopes and one of 16 MB each, signed
    deposit notifications."""
    return stack.script("world", "5", "4", str(stack.dir / "envelopes"), "16")
