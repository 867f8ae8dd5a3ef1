"""Database-level append-only guard for the deposit ledger (the pattern of audit/guard.py).

PostgreSQL and SQLite triggers refuse every UPDATE and DELETE of a ledger entry (and
TRUNCATE on PostgreSQL), with no switch that lifts them. The runtime database role holds
only SELECT and INSERT on the table (audit/db_roles.py); only the owner can purge it, by
DDL (`audit.guard.suspended`, used by `manage.py flush` in tests).
Installed by migration trading/0003_deposits, made switch-free by trading/0006.
"""

from __future__ import annotations

from audit.guard import guard_tables, postgres_function_sql, postgres_triggers_sql

TABLES = {"trading_depositentry": ("deposit ledger entries", "deposit_entry")}
FUNCTION = "deposit_entry_refuse_change"

POSTGRES_SQL = (postgres_function_sql(FUNCTION, "deposit ledger entries")
                + postgres_triggers_sql("trading_depositentry", FUNCTION, "deposit_entry"))

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS deposit_entry_append_only ON trading_depositentry;
DROP TRIGGER IF EXISTS deposit_entry_no_truncate ON trading_depositentry;
DROP FUNCTION IF EXISTS deposit_entry_refuse_change();
"""

SQLITE_DROP = ["DROP TRIGGER IF EXISTS deposit_entry_no_update", "DROP TRIGGER IF EXISTS deposit_entry_no_delete"]


def create_triggers(connection) -> None:
    guard_tables(connection, TABLES, function=FUNCTION, what="deposit ledger entries")


def drop_triggers(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_DROP)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_DROP:
                cursor.execute(statement)
