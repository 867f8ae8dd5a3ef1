import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.canonical import CanonicalJSONError, canonical_bytes
from audit.models import AuditEvent
from audit.selectors import chain_verify
from audit.services import GENESIS_PREV, audit_record

pytestmark = pytest.mark.django_db(transaction=True)


def _append(n: int) -> None:
    for i in range(n):
        audit_record(actor="system", action="test.event", obj=f"test.thing:{i}", data={"i": i})


def test_chain_links_and_verifies():
    _append(5)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev == GENESIS_PREV
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev == before.hash
    report = chain_verify()
    assert report.ok and report.checked == 5 and report.head_hash == events[-1].hash


def test_event_is_rolled_back_with_its_transaction():
    _append(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor="system", action="test.event", obj="test.thing:x", data={})
        raise RuntimeError("the change failed")
    audit_record(actor="system", action="test.event", obj="test.thing:y", data={})
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2]
    assert chain_verify().ok


@pytest.mark.parametrize("statement", [
    "UPDATE audit_auditevent SET action = 'forged' WHERE seq = 1",
    "DELETE FROM audit_auditevent WHERE seq = 1",
])
def test_database_refuses_update_and_delete(statement):
    _append(2)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 2


def test_orm_update_and_delete_refused():
    _append(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(actor="42")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()


def _tamper(sql: str) -> None:
    """Change an event with raw SQL after disabling the guard, as a DBA could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
            cursor.execute(sql)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute(sql)
            from audit.guard import create_triggers

            create_triggers(connection)


def test_tampered_event_fails_verify_at_its_seq():
    _append(6)
    _tamper("UPDATE audit_auditevent SET object = 'test.thing:999' WHERE seq = 4")
    report = chain_verify()
    assert not report.ok and report.first_broken_seq == 4
    with pytest.raises(CommandError, match="BROKEN at seq 4"):
        call_command("audit", "verify", "--no-progress")


def test_tampered_and_rehashed_event_breaks_next_link():
    _append(5)
    event = AuditEvent.objects.get(seq=3)
    forged = {**event.as_dict(), "data": {"i": 99}}
    from audit.services import leaf_hash

    new_hash = leaf_hash(canonical_bytes(forged))
    _tamper(f"UPDATE audit_auditevent SET data = '{{\"i\": 99}}', hash = '{new_hash}' WHERE seq = 3")
    report = chain_verify()
    assert not report.ok and report.first_broken_seq == 4


def test_verify_command_succeeds_on_intact_chain(capsys):
    _append(3)
    call_command("audit", "verify", "--no-progress")
    assert "audit chain OK: 3 events" in capsys.readouterr().out


def test_secrets_and_floats_refused():
    with pytest.raises(ValueError, match="secret material"):
        audit_record(actor="system", action="test.event", obj="x.y:1", data={"nested": {"password": "x"}})
    with pytest.raises(CanonicalJSONError):
        audit_record(actor="system", action="test.event", obj="x.y:1", data={"price": 1.5})
    assert AuditEvent.objects.count() == 0


def test_stored_hash_is_leaf_hash_of_canonical_event():
    from audit.canonical import dumps
    from audit.services import leaf_hash

    event = audit_record(actor="system", action="test.event", obj="x.y:1",
                         data={"名称": "道路", "n": 12, "nested": {"b": [1, "x"], "a": None}})
    stored = AuditEvent.objects.get(seq=event.seq)
    assert stored.hash == event.hash == leaf_hash(dumps(stored.as_dict()))
