"""Database-level append-only guard for the deposit ledger (audit/guard.py's `guard_tables`).

PostgreSQL and SQLite triggers refuse every UPDATE and DELETE of a ledger entry (and
TRUNCATE on PostgreSQL), with no switch that lifts them. The runtime database role holds
only SELECT and INSERT on the table (audit/db_roles.py); only the owner can purge it, by
DDL (`audit.guard.suspended`, used by `manage.py flush` in tests).
Installed by migration trading/0003_deposits, made switch-free by trading/0006.
"""

from __future__ import annotations

from audit.guard import guard_tables, unguard_tables

TABLES = {"trading_depositentry": ("deposit ledger entries", "deposit_entry")}
FUNCTION = "deposit_entry_refuse_change"


def create_triggers(connection) -> None:
    guard_tables(connection, TABLES, function=FUNCTION, what="deposit ledger entries")


def drop_triggers(connection) -> None:
    unguard_tables(connection, TABLES, function=FUNCTION)
