"""Concurrent notifications for one sub-account keep a correct balance (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from trading.deposits import bankmsg
from trading.models.deposit import BankTransaction, DepositAccount, DepositEntry

from .conftest import BANK_SECRET, make_transfer

WORKERS, PER_WORKER = 8, 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_notifications_for_one_sub_account(registered):
    from trading.deposits.services.bank import bank_notification_receive

    _, regs = registered
    account = DepositAccount.objects.get(registration=regs[0])
    shared = make_transfer(account, "2000.00", txn_id="SHARED-0001")  # every worker reports this one too
    plan = [[make_transfer(account, "2000.00", txn_id=f"W{w}-{i:03d}") for i in range(PER_WORKER)] + [shared]
            for w in range(WORKERS)]
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []
    results: list[str] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i, transfer in enumerate(plan[n]):
                body = bankmsg.notification_body(transfer)
                ts = int(time.time()) - n * 20 - i  # distinct signed payloads: re-sent, not replayed
                headers = bankmsg.signed_headers(BANK_SECRET.encode(), body, timestamp=ts)
                result = bank_notification_receive(body=body, timestamp=headers[bankmsg.TIMESTAMP_HEADER],
                                                   signature=headers[bankmsg.SIGNATURE_HEADER])
                results.append(result.result)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    distinct = WORKERS * PER_WORKER + 1
    assert results.count("booked") == distinct and results.count("duplicate") == WORKERS - 1
    account.refresh_from_db()
    expected = Decimal("2000.00") * distinct
    assert account.balance == account.valid_total == expected
    assert account.entry_count == distinct and account.status == "paid"
    entries = list(DepositEntry.objects.filter(account=account).order_by("seq").values_list("seq", "balance_after"))
    assert [s for s, _ in entries] == list(range(1, distinct + 1))
    assert [b for _, b in entries] == [Decimal("2000.00") * s for s in range(1, distinct + 1)]
    assert DepositEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] == expected
    assert BankTransaction.objects.filter(txn_id="SHARED-0001").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_new_transaction_racing_on_an_unknown_account_books_once(registered):
    from trading.deposits.services.bank import bank_notification_receive
    from trading.deposits.vaccount import make_virtual_account

    transfer = make_transfer(None, "500.00", number=make_virtual_account("6230", "000000000500"), txn_id="RACE-1")
    body = bankmsg.notification_body(transfer)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    results: list[str] = []

    def worker(n: int) -> None:
        try:
            headers = bankmsg.signed_headers(BANK_SECRET.encode(), body, timestamp=int(time.time()) - n)
            barrier.wait()
            results.append(bank_notification_receive(body=body, timestamp=headers[bankmsg.TIMESTAMP_HEADER],
                                                     signature=headers[bankmsg.SIGNATURE_HEADER]).result)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(results) == ["duplicate", "duplicate", "duplicate", "suspense"]
    assert BankTransaction.objects.filter(txn_id="RACE-1").count() == 1
