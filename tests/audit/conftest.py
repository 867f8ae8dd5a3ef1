"""Database roles for the privilege tests (PostgreSQL): the platform's runtime role and a
DML-only role (SELECT/INSERT/UPDATE/DELETE on every table), both in this process's test
database, each reachable by its own connection (`role_connect`)."""

from __future__ import annotations

import pytest

from tests.audit.roles import roles_prepare


@pytest.fixture(scope="session")
def test_roles(django_db_setup, django_db_blocker):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("database roles exist on PostgreSQL only")
    with django_db_blocker.unblock():
        roles_prepare(connection)
