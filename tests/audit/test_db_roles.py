"""The runtime role and a DML-only role cannot change any append-only table (PostgreSQL):
UPDATE, DELETE, TRUNCATE, disabling triggers, `session_replication_role` and the old
`ptrade.audit_maintenance` GUC switch are all refused, on every append-only table."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit import checkpoints
from audit.db_roles import runtime_problems
from audit.guard import guarded_tables
from audit.models import CheckpointRefusal, WitnessCosignature, WitnessSubmission
from tests.audit.roles import APPEND_ONLY, DML, RUNTIME, try_sql
from tests.audit.tamper import append

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ATTACKS = {
    "update": ["UPDATE {table} SET {column} = {column}"],
    "delete": ["DELETE FROM {table}"],
    "truncate": ["TRUNCATE {table} CASCADE"],
    "disable_trigger": ["ALTER TABLE {table} DISABLE TRIGGER ALL", "DELETE FROM {table}"],
    "disable_user_trigger": ["ALTER TABLE {table} DISABLE TRIGGER USER", "DELETE FROM {table}"],
    "replication_role": ["SET session_replication_role = replica", "DELETE FROM {table}"],
    "guc_switch": ["SET ptrade.audit_maintenance = 'on'", "DELETE FROM {table}"],
    "guc_switch_local": ["BEGIN", "SET LOCAL ptrade.audit_maintenance = 'on'", "TRUNCATE {table}"],
    "drop_trigger_function": ["DROP FUNCTION audit_refuse_change() CASCADE", "DELETE FROM {table}"],
}
COLUMN = {"audit_auditevent": "actor", "audit_checkpoint": "note", "audit_merklenode": "hash",
          "audit_checkpointrefusal": "problem", "audit_witnesscosignature": "line",
          "audit_witnesssubmission": "detail", "trading_depositentry": "note"}


def _fill_every_append_only_table() -> dict[str, int]:
    append(4)
    checkpoint = checkpoints.checkpoint_create()
    CheckpointRefusal.objects.create(at="2026-12-01T00:00:00Z", log_size=4, problem="test")
    WitnessCosignature.objects.create(checkpoint=checkpoint, witness="w.test/w", key_id="00000000", timestamp=1,
                                      line="\u2014 w.test/w AAAA", received_at="2026-12-01T00:00:00Z")
    WitnessSubmission.objects.create(witness="w.test/w", key_id="00000000", url="http://127.0.0.1:1",
                                     tree_size=4, old_size=0, outcome="refused", status=409, detail="test",
                                     at="2026-12-01T00:00:00Z")
    with connection.cursor() as cursor:  # a ledger row without its parents (superuser, test data only)
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("INSERT INTO trading_depositentry (seq, kind, amount, balance_after, valid, invalid_reason, "
                       "reason, note, value_at, created_at, account_id) VALUES (0, 'credit', 1, 1, true, '', "
                       "'test', 'test', now(), now(), 999999)")
        cursor.execute("SET session_replication_role = origin")
    return _counts()


def _counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        out = {}
        for table in APPEND_ONLY:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
            out[table] = cursor.fetchone()[0]
        return out


def test_the_append_only_tables_are_the_ones_guarded(test_roles):
    assert sorted(guarded_tables(connection)) == sorted(APPEND_ONLY)


@pytest.mark.parametrize("role", [RUNTIME, DML])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_attack_is_refused_on_every_append_only_table(test_roles, role, attack):
    before = _fill_every_append_only_table()
    assert all(before.values())
    for table in APPEND_ONLY:
        statements = [s.format(table=table, column=COLUMN[table]) for s in ATTACKS[attack]]
        outcome = try_sql(role, *statements)
        assert outcome.startswith("refused"), (role, attack, table, outcome)
    assert _counts() == before


def test_the_runtime_role_may_append_and_read(test_roles):
    append(2)
    assert try_sql(RUNTIME, "SELECT count(*) FROM audit_auditevent",
                   "SELECT * FROM audit_append(7370756964657231, '{\"action\":\"test.event\",\"actor\":\"system\","
                   "\"data\":{},\"object\":\"test.thing:x\"', 'system', 'test.event', 'test.thing:x', '{}'::jsonb)",
                   "INSERT INTO audit_merklenode (level, index, hash) VALUES (1, 99, '\\x00')") == "ok"
    # and may not touch what it just wrote
    assert try_sql(RUNTIME, "DELETE FROM audit_auditevent WHERE seq = 3").startswith("refused")


def test_the_runtime_role_cannot_purge_the_tables_as_the_test_flush_does(test_roles):
    append(1)
    outcome = try_sql(RUNTIME, "ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
    assert "must be owner" in outcome


def test_role_check_passes_the_runtime_role_and_fails_the_dml_role(test_roles):
    assert runtime_problems(connection, runtime=RUNTIME) == []
    problems = runtime_problems(connection, runtime=DML)
    assert "has UPDATE on append-only table audit_auditevent" in problems
    assert "has DELETE on append-only table trading_depositentry" in problems
    call_command("db_roles", "check", "--runtime-role", RUNTIME)
    with pytest.raises(CommandError, match="has UPDATE on append-only table"):
        call_command("db_roles", "check", "--runtime-role", DML)
    with pytest.raises(CommandError, match="is a superuser"):
        call_command("db_roles", "grant", "--runtime-role", "postgres")
