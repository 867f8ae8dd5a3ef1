"""Statement import (command and upload): the same ledger entries as notifications; reconciliation."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from trading.deposits.selectors import reconciliation_report
from trading.deposits.services.statements import statement_import
from trading.deposits.statement import write_statement
from trading.deposits.vaccount import make_virtual_account
from trading.models.deposit import BankTransaction, DepositAccount, DepositEntry, RefundInstruction

from .conftest import make_transfer

pytestmark = pytest.mark.django_db


def _csv(transfers) -> bytes:
    out = io.StringIO()
    write_statement(out, transfers)
    return out.getvalue().encode("utf-8")


def _entries(account):
    return [(e.kind, e.amount, e.valid, e.invalid_reason, e.balance_after) for e in account.entries.order_by("seq")]


def test_both_paths_produce_the_same_ledger(registered, notify):
    _, regs = registered
    a, b = regs[0].deposit_account, regs[1].deposit_account
    scenario = [("30000.00", None), ("50000.00", "7777 0000"), ("70000.00", None)]  # short, wrong payer, top-up
    for amount, payer in scenario:
        assert notify(make_transfer(a, amount, payer=payer)).status_code == 200
    data = _csv([make_transfer(b, amount, payer=payer) for amount, payer in scenario])
    statement = statement_import(actor="system", data=data, file_name="day.csv")
    assert statement.booked_count == 3 and statement.error_count == 0
    a.refresh_from_db()
    b.refresh_from_db()
    assert _entries(a) == _entries(b)
    assert (a.status, a.balance, a.valid_total) == (b.status, b.balance, b.valid_total) == (
        "paid", Decimal("150000.00"), Decimal("100000.00"))
    assert RefundInstruction.objects.filter(account=a).count() == RefundInstruction.objects.filter(account=b).count() \
        == 1


def test_late_line_and_unknown_account_and_bad_line(registered, clock):
    tender, regs = registered
    account = regs[0].deposit_account
    clock.move_to(tender.bid_deadline + dt.timedelta(hours=1))
    late = make_transfer(account, booked_at=tender.bid_deadline + dt.timedelta(minutes=1))
    unknown = make_transfer(None, "123.45", number=make_virtual_account("6230", "999999999999"))
    data = _csv([late, unknown]) + b"BAD,2026-01-01T00:00:00Z,C,6230,abc,CNY,,,,\n"
    statement = statement_import(actor="system", data=data)
    assert statement.error_count == 1 and statement.errors[0]["line"] == 4
    account.refresh_from_db()
    assert account.status == "late" and account.valid_total == 0
    assert BankTransaction.objects.get(txn_id=unknown.txn_id).in_suspense


def test_reimport_is_idempotent(registered):
    _, regs = registered
    data = _csv([make_transfer(r.deposit_account) for r in regs])
    first = statement_import(actor="system", data=data)
    second = statement_import(actor="system", data=data)
    assert (first.booked_count, second.booked_count, second.known_count) == (3, 0, 3)
    assert DepositEntry.objects.count() == 3
    assert all(a.balance == Decimal("100000.00") for a in DepositAccount.objects.all())


def test_reconciliation_finds_a_missing_and_a_duplicated_line(registered, notify):
    _, regs = registered
    t1, t2, t3 = (make_transfer(r.deposit_account, "100000.00") for r in regs)
    for t in (t1, t2, t3):
        assert notify(t).json()["result"] == "booked"
    t4 = make_transfer(regs[0].deposit_account, "5.00")  # never notified: the statement brings it
    # The bank's statement: t1 twice (duplicated), t2 left out (missing), t3 and t4 once.
    data = _csv([t1, t1, t3, t4])
    statement = statement_import(actor="system", data=data)
    report = reconciliation_report(statement=statement, reveal_sealed=True)
    assert [(d["txn_id"], d["lines"]) for d in report["duplicated"]] == [(t1.txn_id, [2, 3])]
    assert [m["txn_id"] for m in report["missing_from_statement"]] == [t2.txn_id]
    assert [m["txn_id"] for m in report["statement_only"]] == [t4.txn_id]
    assert report["mismatched"] == [] and report["balanced"] is False
    assert report["totals"]["statement"]["credit"] == Decimal("200005.00")
    assert report["totals"]["ledger"]["credit"] == Decimal("300005.00")
    assert report["difference"]["credit"] == Decimal("-100000.00")
    # t1 was booked once, t4 booked from the statement
    assert DepositEntry.objects.filter(bank_transaction__txn_id=t1.txn_id).count() == 1
    assert BankTransaction.objects.get(txn_id=t4.txn_id).notified is False
    assert BankTransaction.objects.get(txn_id=t1.txn_id).in_statement is True


def test_a_clean_statement_is_balanced(registered, notify):
    _, regs = registered
    transfers = [make_transfer(r.deposit_account) for r in regs]
    for t in transfers:
        notify(t)
    statement = statement_import(actor="system", data=_csv(transfers))
    report = reconciliation_report(statement=statement, reveal_sealed=True)
    assert report["balanced"] is True and report["difference"] == {"credit": 0, "debit": 0}


def test_management_command(registered, notify, tmp_path):
    _, regs = registered
    t1, t2 = make_transfer(regs[0].deposit_account), make_transfer(regs[1].deposit_account)
    notify(t1)
    notify(t2)
    path = tmp_path / "statement.csv"
    path.write_bytes(_csv([t1, t1]))
    out = io.StringIO()
    call_command("deposits", "import-statement", str(path), stdout=out)
    text = out.getvalue()
    assert "duplicated 1" in text and "missing from statement 1" in text
    assert f"duplicated {t1.txn_id} on lines [2, 3]" in text and f"missing from statement {t2.txn_id}" in text


def test_upload_api_for_the_platform_admin_only(registered, api, make_user, cast):
    _, regs = registered
    data = _csv([make_transfer(regs[0].deposit_account)])
    upload = SimpleUploadedFile("s.csv", data, content_type="text/csv")
    assert api.as_user(cast.bidders[0]).post("/api/v1/deposits/statements", {"file": upload}).status_code == 403
    admin = make_user("platform_admin")
    upload = SimpleUploadedFile("s.csv", data, content_type="text/csv")
    response = api.as_user(admin).post("/api/v1/deposits/statements", {"file": upload})
    assert response.status_code == 201, response.content
    sid = response.json()["id"]
    report = api.as_user(admin).get(f"/api/v1/deposits/statements/{sid}/reconciliation").json()
    assert report["balanced"] is True and len(report["statement_only"]) == 1  # booked from the statement
    bad = SimpleUploadedFile("s.csv", b"nothing,useful\n1,2\n", content_type="text/csv")
    response = api.as_user(admin).post("/api/v1/deposits/statements", {"file": bad})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_statement"


def test_suspense_assign_and_return(registered, notify, api, make_user):
    _, regs = registered
    admin = make_user("platform_admin")
    account = regs[0].deposit_account
    wrong = make_virtual_account("6230", "000000000042")
    notify(make_transfer(account, number=wrong))  # the bank mistyped the sub-account
    notify(make_transfer(None, "88.00", number=make_virtual_account("6230", "000000000043")))
    listed = api.as_user(admin).get("/api/v1/deposits/suspense").json()["results"]
    assert len(listed) == 2
    assert api.as_user(regs[0].registered_by).get("/api/v1/deposits/suspense").status_code == 403
    first = next(t for t in listed if t["virtual_account"] == wrong)
    response = api.as_user(admin).post(f"/api/v1/deposits/suspense/{first['id']}/resolve",
                                       {"action": "assign", "account_number": account.number, "note": "typo"},
                                       format="json")
    assert response.status_code == 200 and response.json()["outcome"] == "assigned"
    account.refresh_from_db()
    assert account.status == "paid" and account.balance == Decimal("100000.00")
    second = next(t for t in listed if t["virtual_account"] != wrong)
    response = api.as_user(admin).post(f"/api/v1/deposits/suspense/{second['id']}/resolve", {"action": "return"},
                                       format="json")
    assert response.status_code == 200 and response.json()["outcome"] == "returned"
    instruction = RefundInstruction.objects.get(purpose="suspense_return")
    assert instruction.total == Decimal("88.00") and instruction.account is None
    again = api.as_user(admin).post(f"/api/v1/deposits/suspense/{second['id']}/resolve", {"action": "return"},
                                    format="json")
    assert again.status_code == 409
    assert api.as_user(admin).get("/api/v1/deposits/suspense").json()["count"] == 0
    # the bank confirms the return: the suspense item is closed by it
    body = notify(make_transfer(None, "88.00", kind="refund", reference=instruction.reference,
                                number=instruction.from_account)).json()
    assert body["result"] == "refund_executed"
    instruction.refresh_from_db()
    assert instruction.status == "executed"


def test_a_new_transaction_twice_in_one_statement_is_booked_once(registered):
    """Twice in one batch and never notified: the second line is a duplicate of the first (it names the
    sub-account: its status as it was when the line was read, before the batch booked), and a changed
    copy is a conflict."""
    from django.db import transaction

    from trading.deposits.booking import transfers_book
    from trading.models.deposit import TransferSource

    _, regs = registered
    account = regs[0].deposit_account
    t = make_transfer(account, "100000.00")
    changed = make_transfer(account, "99.00", txn_id=t.txn_id)
    with transaction.atomic():
        results = transfers_book([t, t, changed], source=TransferSource.STATEMENT)
    assert [r.result for r in results] == ["booked", "duplicate", "conflict"]
    account.refresh_from_db()
    assert results[0].status == account.status == "paid" and results[1].status == "none"
    assert DepositEntry.objects.filter(bank_transaction__txn_id=t.txn_id).count() == 1
    row = BankTransaction.objects.get(txn_id=t.txn_id)
    assert (row.in_statement, row.notified) == (True, False)
