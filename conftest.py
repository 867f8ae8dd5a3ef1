"""Shared fixtures: users for every role, an API client, DB-kind markers."""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.uscc import make_uscc

# The suite's shared fixtures (docs/testing.md): the controllable clock, thread/worker isolation,
# the tender cast and states.
pytest_plugins = ["tests.fixtures.clock", "tests.fixtures.isolation", "tests.fixtures.tenders"]

_counter = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (make test does on CI)")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL")
    for item in items:
        if "postgres" in item.keywords and not settings.IS_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Close sessions left by consumer threads so the test database can be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _checkpoint_journal(settings, tmp_path_factory):
    """Each test's database starts empty, so each gets its own signed-checkpoint journal
    (audit.checkpoints.journal_path); a journal shared across flushed databases would
    rightly make the platform refuse to sign."""
    settings.AUDIT_CHECKPOINT_JOURNAL = str(tmp_path_factory.mktemp("journal") / "checkpoints.jsonl")


@pytest.fixture(autouse=True)
def _file_commits_follow_service_transactions():
    """Emulate, for file steps only (trading.bids.storage.after_commit), the COMMIT that a test's
    own wrapping transaction (the `db` fixture) withholds: they run when the outermost service
    transaction inside the test exits without error, as they would in production when it
    commits. A rolled-back service transaction discards them (Django drops the callbacks of a
    rolled-back savepoint). Other on_commit callbacks keep Django's test behaviour."""
    from django.db import connections, transaction

    original_exit = transaction.Atomic.__exit__

    def exit_then_file_commits(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        connection = connections[self.using or "default"]
        blocks = connection.atomic_blocks
        if exc_type is None and blocks and all(b._from_testcase for b in blocks):
            files = [c for c in connection.run_on_commit if getattr(c[1], "_ptrade_file_commit", False)]
            connection.run_on_commit = [c for c in connection.run_on_commit if c not in files]
            for _sids, func, _robust in files:
                func()
        return result

    with pytest.MonkeyPatch.context() as patch:  # its own: a test's monkeypatch.undo() keeps it
        patch.setattr(transaction.Atomic, "__exit__", exit_then_file_commits)
        yield


@pytest.fixture(autouse=True)
def _reset_throttles():
    """Throttle counters live in the cache (Redis when REDIS_URL is set, per process prefix):
    every test starts with none, so login tests never inherit another test's attempts."""
    from django.core.cache import cache

    backend = getattr(cache, "_cache", None)
    if hasattr(backend, "get_client"):
        client = backend.get_client(None, write=True)
        for key in client.scan_iter(match=f"{cache.key_prefix}:*throttle_*"):
            client.delete(key)
    elif hasattr(cache, "clear"):
        cache.clear()
    yield


@pytest.fixture
def make_org(db):
    from accounts.services import organisation_create

    def make(name: str | None = None, **fields):
        n = next(_counter)
        fields.setdefault("basic_account_number", f"62220000{n:08d}")
        fields.setdefault("basic_account_bank", "Demo Bank")
        fields.setdefault("basic_account_name", name or f"Org {n}")
        return organisation_create(actor="system", name=name or f"Org {n}",
                                   uscc=make_uscc(f"9133010071{n:07d}"), **fields)

    return make


@pytest.fixture
def make_user(db, make_org):
    from accounts.services import user_create

    def make(*roles: str, org=None, username: str | None = None, password: str = "correct-horse-9", **fields):  # noqa: S107
        n = next(_counter)
        if org is None and any(r in roles for r in ("bidder", "tenderer", "agent")):
            org = make_org()
        return user_create(actor="system", username=username or f"user{n}", password=password,
                           organisation=org, roles=list(roles), **fields)

    return make


@pytest.fixture
def api():
    """An unauthenticated API client; `api.as_user(user)` authenticates it."""
    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture(autouse=True)
def _fresh_public_page_cache():
    """Every test starts with no cached public page (the Redis cache outlives a test's database)."""
    from bidding_ui.page_cache import invalidate

    invalidate()
