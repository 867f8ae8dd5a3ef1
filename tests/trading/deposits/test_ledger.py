"""The ledger is append-only, in code and in the database; balances are the sum of entries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum

from trading.models.deposit import DepositAccount, DepositEntry
from trading.models.notice import ImmutableError

from .conftest import make_transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(registered, notify):
    _, regs = registered
    account = regs[0].deposit_account
    for amount in ("30000.00", "20000.00", "50000.00"):
        assert notify(make_transfer(account, amount)).status_code == 200
    return DepositAccount.objects.get(pk=account.pk)


def test_balance_is_the_sum_of_entries(booked):
    total = DepositEntry.objects.filter(account=booked).aggregate(s=Sum("amount"))["s"]
    assert total == booked.balance == Decimal("100000.00")
    assert list(booked.entries.values_list("seq", flat=True)) == [1, 2, 3]
    assert booked.entry_count == 3


def test_entries_refuse_update_and_delete_in_code(booked):
    entry = booked.entries.first()
    entry.amount = Decimal("1.00")
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()


@pytest.mark.parametrize("statement", [
    "UPDATE trading_depositentry SET amount = 1",
    "DELETE FROM trading_depositentry",
])
def test_entries_refuse_update_and_delete_in_the_database(booked, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert DepositEntry.objects.filter(account=booked).aggregate(s=Sum("amount"))["s"] == Decimal("100000.00")


def test_queryset_update_refused_too(booked):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DepositEntry.objects.filter(account=booked).update(amount=Decimal("0.01"))
