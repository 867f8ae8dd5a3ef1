"""8 concurrent writers on PostgreSQL: gapless, fork-free chain."""

import threading

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from audit.selectors import chain_verify
from audit.services import audit_record

WRITERS, PER_WRITER = 8, 40


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_produce_gapless_fork_free_chain():
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(PER_WRITER):
                with transaction.atomic():
                    audit_record(actor="system", action="test.concurrent", obj=f"test.writer:{n}", data={"i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * PER_WRITER + 1))
    assert AuditEvent.objects.values("prev").distinct().count() == WRITERS * PER_WRITER
    report = chain_verify()
    assert report.ok and report.checked == WRITERS * PER_WRITER
