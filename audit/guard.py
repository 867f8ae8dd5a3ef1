"""Database-level append-only guard for audit events.

PostgreSQL and SQLite triggers refuse every UPDATE and DELETE (and TRUNCATE on
PostgreSQL). The only way around them from the application is `maintenance()`,
which `manage.py flush` uses when `settings.AUDIT_ALLOW_FLUSH` is on (tests);
it allows whole-table purges, never an UPDATE. A DBA can still disable the
triggers: that is what checkpoints and consistency proofs catch (docs/audit.md).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.db.backends.signals import connection_created

_state = threading.local()

POSTGRES_SQL = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE')
     AND coalesce(current_setting('ptrade.audit_maintenance', true), '') = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""

SQLITE_SQL = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    # ptrade_audit_maintenance() is registered on every connection the platform opens;
    # any other client (sqlite3 shell) has no such function, so its DELETE fails too.
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
       WHEN ptrade_audit_maintenance() = 0
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
]


def create_triggers(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_SQL)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_SQL:
                cursor.execute(statement)
        else:  # pragma: no cover - only the two supported databases
            raise RuntimeError(f"no audit guard for database vendor {connection.vendor}")


def _maintenance_on() -> int:
    return 1 if getattr(_state, "maintenance", False) else 0


def _register_sqlite_function(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("ptrade_audit_maintenance", 0, _maintenance_on)


def install() -> None:
    connection_created.connect(_register_sqlite_function, dispatch_uid="audit.guard.sqlite")


@contextlib.contextmanager
def maintenance(connection) -> Iterator[None]:
    """Allow purging the whole event table (test flush only)."""
    _state.maintenance = True
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET ptrade.audit_maintenance = 'on'")
    try:
        yield
    finally:
        _state.maintenance = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("RESET ptrade.audit_maintenance")
