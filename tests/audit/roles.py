"""Connections as other database roles, for the privilege and tamper tests (PostgreSQL)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg2
from django.db import connection

from audit.db_roles import runtime_grant

RUNTIME = "ptrade_test_runtime"
DML = "ptrade_test_dml"
PASSWORD = "ptrade-test-role"  # noqa: S105 - a test role in a throwaway test database
APPEND_ONLY = ["audit_auditevent", "audit_checkpoint", "audit_merklenode", "audit_checkpointrefusal",
               "audit_witnesscosignature", "audit_witnesssubmission", "trading_depositentry"]


def roles_prepare(conn) -> None:
    """Create both roles if needed (they are cluster-wide) and grant them in this test database:
    the runtime role exactly as production does (audit.db_roles.runtime_grant); the DML role
    every SELECT/INSERT/UPDATE/DELETE, as a DBA with a data-only account would have."""
    with conn.cursor() as cursor:
        for role in (RUNTIME, DML):
            cursor.execute(f"""DO $$ BEGIN
                CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '{PASSWORD}';
                EXCEPTION WHEN duplicate_object THEN NULL; END $$""")
            cursor.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{conn.settings_dict["NAME"]}" TO {role}')
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {DML}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {DML}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {DML}")
    runtime_grant(conn, runtime=RUNTIME)


@contextlib.contextmanager
def role_connect(role: str) -> Iterator[psycopg2.extensions.connection]:
    """An autocommit connection to the test database as `role`."""
    params = connection.settings_dict
    conn = psycopg2.connect(dbname=params["NAME"], user=role, password=PASSWORD,
                            host=params.get("HOST") or "127.0.0.1", port=params.get("PORT") or 5432)
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


def try_sql(role: str, *statements: str) -> str:
    """Run `statements` in one session as `role`; "ok" if all passed, else the first error."""
    with role_connect(role) as conn, conn.cursor() as cursor:
        for statement in statements:
            try:
                cursor.execute(statement)
            except psycopg2.Error as exc:
                return f"refused: {exc.pgerror or exc}".strip()
    return "ok"
