"""Database-level append-only guard for the deposit ledger (the pattern of audit/guard.py).

PostgreSQL and SQLite triggers refuse every UPDATE and DELETE of a ledger entry (and
TRUNCATE on PostgreSQL). Whole-table purges pass only in the audit guard's maintenance
mode (`audit.guard.maintenance`, used by `manage.py flush` in tests); an UPDATE never does.
Installed by migration trading/0003_deposits.
"""

from __future__ import annotations

POSTGRES_SQL = """
CREATE OR REPLACE FUNCTION deposit_entry_refuse_change() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE')
     AND coalesce(current_setting('ptrade.audit_maintenance', true), '') = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'deposit ledger entries are append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS deposit_entry_append_only ON trading_depositentry;
CREATE TRIGGER deposit_entry_append_only BEFORE UPDATE OR DELETE ON trading_depositentry
  FOR EACH ROW EXECUTE FUNCTION deposit_entry_refuse_change();
DROP TRIGGER IF EXISTS deposit_entry_no_truncate ON trading_depositentry;
CREATE TRIGGER deposit_entry_no_truncate BEFORE TRUNCATE ON trading_depositentry
  FOR EACH STATEMENT EXECUTE FUNCTION deposit_entry_refuse_change();
"""

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS deposit_entry_append_only ON trading_depositentry;
DROP TRIGGER IF EXISTS deposit_entry_no_truncate ON trading_depositentry;
DROP FUNCTION IF EXISTS deposit_entry_refuse_change();
"""

SQLITE_SQL = [
    "DROP TRIGGER IF EXISTS deposit_entry_no_update",
    """CREATE TRIGGER deposit_entry_no_update BEFORE UPDATE ON trading_depositentry
       BEGIN SELECT RAISE(ABORT, 'deposit ledger entries are append-only: UPDATE refused'); END""",
    "DROP TRIGGER IF EXISTS deposit_entry_no_delete",
    # ptrade_audit_maintenance() is registered on the platform's connections by audit.guard.
    """CREATE TRIGGER deposit_entry_no_delete BEFORE DELETE ON trading_depositentry
       WHEN ptrade_audit_maintenance() = 0
       BEGIN SELECT RAISE(ABORT, 'deposit ledger entries are append-only: DELETE refused'); END""",
]

SQLITE_DROP = ["DROP TRIGGER IF EXISTS deposit_entry_no_update", "DROP TRIGGER IF EXISTS deposit_entry_no_delete"]


def create_triggers(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_SQL)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_SQL:
                cursor.execute(statement)
        else:  # pragma: no cover - only the two supported databases
            raise RuntimeError(f"no deposit ledger guard for database vendor {connection.vendor}")


def drop_triggers(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_DROP)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_DROP:
                cursor.execute(statement)
