"""Database-level append-only guard for the audit tables (and the pattern other apps reuse).

Every append-only table carries triggers that refuse every UPDATE and DELETE, and on
PostgreSQL every TRUNCATE. There is no switch that lifts them: no GUC, no session
variable, no SQL function the application registers. What remains:

- PostgreSQL: a trigger binds every role but the table's owner and superusers, who can
  `ALTER TABLE ... DISABLE TRIGGER` (or `SET session_replication_role`, superuser only).
  The platform's runtime role owns nothing and holds only SELECT and INSERT on these
  tables (audit/db_roles.py), so it can neither disable a trigger nor TRUNCATE. What the
  owner or a superuser does is *detected*, not refused: checkpoints, the signed-checkpoint
  journal beside the key, and checkpoints held by supervisors (docs/audit.md).
- SQLite (development default): triggers only. Whoever can write the database file can
  drop them; SQLite has no roles. docs/audit.md says what that does not guarantee.

`suspended(connection, tables)` lifts the triggers of some tables for the length of a
transaction with DDL (`ALTER TABLE ... DISABLE TRIGGER USER` on PostgreSQL, DROP and
re-CREATE on SQLite). Only the owner role can run it: `manage.py flush` in tests and
`manage.py audit nodes --rebuild` use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

# table -> (what the error message calls its rows, SQLite trigger name prefix)
AUDIT_TABLES: dict[str, tuple[str, str]] = {
    "audit_auditevent": ("audit events", "audit_event"),
    "audit_checkpoint": ("audit checkpoints", "audit_checkpoint"),
    "audit_merklenode": ("audit Merkle nodes", "audit_merklenode"),
    "audit_checkpointrefusal": ("refused checkpoint records", "audit_checkpointrefusal"),
    # witness cosignatures and submissions (audit.witnessing, migration 0008)
    "audit_witnesscosignature": ("witness cosignatures", "audit_witnesscosignature"),
    "audit_witnesssubmission": ("witness submissions", "audit_witnesssubmission"),
}
# PostgreSQL trigger functions are named "<something>_refuse_change": db_roles and
# `suspended` find the append-only tables by that name.
REFUSE_SUFFIX = "_refuse_change"


def postgres_function_sql(function: str, what: str) -> str:
    """A trigger function that refuses unconditionally (no escape hatch)."""
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '{what} are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""


def postgres_triggers_sql(table: str, function: str, prefix: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {prefix}_append_only ON {table};
CREATE TRIGGER {prefix}_append_only BEFORE UPDATE OR DELETE ON {table}
  FOR EACH ROW EXECUTE FUNCTION {function}();
DROP TRIGGER IF EXISTS {prefix}_no_truncate ON {table};
CREATE TRIGGER {prefix}_no_truncate BEFORE TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


def sqlite_triggers_sql(table: str, what: str, prefix: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {prefix}_no_update",
        f"""CREATE TRIGGER {prefix}_no_update BEFORE UPDATE ON {table}
       BEGIN SELECT RAISE(ABORT, '{what} are append-only: UPDATE refused'); END""",
        f"DROP TRIGGER IF EXISTS {prefix}_no_delete",
        f"""CREATE TRIGGER {prefix}_no_delete BEFORE DELETE ON {table}
       BEGIN SELECT RAISE(ABORT, '{what} are append-only: DELETE refused'); END""",
    ]


def guard_tables(connection, tables: dict[str, tuple[str, str]], *, function: str, what: str) -> None:
    """Install (or re-install) the append-only triggers on `tables`; on PostgreSQL through the
    trigger function `function` (which must end in REFUSE_SUFFIX) whose message names `what`."""
    if not function.endswith(REFUSE_SUFFIX):
        raise ValueError(f"append-only trigger functions end in {REFUSE_SUFFIX}")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(postgres_function_sql(function, what))
            for table, (_what, prefix) in tables.items():
                cursor.execute(postgres_triggers_sql(table, function, prefix))
        elif connection.vendor == "sqlite":
            for table, (what, prefix) in tables.items():
                for statement in sqlite_triggers_sql(table, what, prefix):
                    cursor.execute(statement)
        else:  # pragma: no cover - only the two supported databases
            raise RuntimeError(f"no append-only guard for database vendor {connection.vendor}")


def unguard_tables(connection, tables: dict[str, tuple[str, str]], *, function: str | None = None) -> None:
    """Remove the append-only triggers `guard_tables` installed on `tables` (a migration's reverse), and on
    PostgreSQL the trigger function `function` when given (only once no other table uses it)."""
    with connection.cursor() as cursor:
        for table, (_what, prefix) in tables.items():
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {prefix}_append_only ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS {prefix}_no_truncate ON {table}")
            elif connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {prefix}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {prefix}_no_delete")
        if function is not None and connection.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {function}()")


def create_triggers(connection, tables: Iterable[str] = ("audit_auditevent",)) -> None:
    """The audit tables' guard (migrations 0002, 0003, 0006 and 0008)."""
    guard_tables(connection, {table: AUDIT_TABLES[table] for table in tables}, function="audit_refuse_change",
                 what="audit records")


def install() -> None:
    """Nothing to register any more: the guard has no switch (kept for AppConfig.ready)."""


def guarded_tables(connection) -> list[str]:
    """Every table of the current database that carries an append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND p.proname LIKE %s "
                "ORDER BY 1", ["%" + REFUSE_SUFFIX])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                       "AND sql LIKE '%append-only%' ORDER BY 1")
        return [row[0] for row in cursor.fetchall()]


@contextlib.contextmanager
def suspended(connection, tables: Iterable[str] | None = None) -> Iterator[None]:
    """Lift the append-only triggers of `tables` (default: all guarded tables) while the
    block runs. DDL: only the tables' owner (or a superuser) may do it; for the runtime role
    PostgreSQL refuses ("must be owner of table"). Use inside a transaction where possible."""
    wanted = guarded_tables(connection) if tables is None else list(tables)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in wanted:
                cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                # Deferred foreign-key checks queued by the block (e.g. a checkpoint row that
                # witness cosignatures reference) must run before the ALTER TABLE, which
                # PostgreSQL refuses while trigger events are pending.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table in wanted:
                    cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return
    with connection.cursor() as cursor:
        marks = ",".join("%s" for _ in wanted) or "NULL"
        cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE "  # noqa: S608
                       f"'%%append-only%%' AND tbl_name IN ({marks})", wanted)
        saved = cursor.fetchall()
        for name, _sql in saved:
            cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, sql in saved:
                cursor.execute(sql)
