"""Issue 15 finding 3: before a tender's bid deadline the deposit desk (platform administrator)
learns from statement reconciliation that lines are unmatched, never which sub-account, amount,
time or transaction they are; after the deadline the report is complete."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from trading.deposits.services.statements import statement_import
from trading.deposits.statement import write_statement

from .conftest import make_transfer

pytestmark = pytest.mark.django_db


def _csv(transfers) -> bytes:
    out = io.StringIO()
    write_statement(out, transfers)
    return out.getvalue().encode("utf-8")


def _secrets_of(transfer) -> list[str]:
    return [transfer.txn_id, transfer.virtual_account, str(transfer.amount)]


@pytest.fixture
def reconciled(registered, notify):
    tender, regs = registered
    on_statement = make_transfer(regs[0].deposit_account, "100000.00")
    webhook_only = make_transfer(regs[1].deposit_account, "99999.01")  # paid short, absent from the statement
    mismatched = make_transfer(regs[2].deposit_account, "100000.00")
    for t in (on_statement, webhook_only, mismatched):
        assert notify(t).status_code == 200
    changed = make_transfer(regs[2].deposit_account, "100000.02", txn_id=mismatched.txn_id)
    statement = statement_import(actor="system", data=_csv([on_statement, on_statement, changed]))
    return tender, statement, (on_statement, webhook_only, mismatched)


def test_desk_reconciliation_before_the_deadline_names_no_tender_or_bidder(reconciled, api, make_user):
    tender, statement, transfers = reconciled
    desk = api.as_user(make_user("platform_admin"))
    response = desk.get(f"/api/v1/deposits/statements/{statement.pk}/reconciliation")
    assert response.status_code == 200
    body = response.json()
    text = json.dumps(body)
    for transfer in transfers[1:]:
        for secret in _secrets_of(transfer):
            assert secret not in text, secret
    assert body["missing_from_statement"] == [{"sealed": True}]
    assert all(item == {"sealed": True, "line": item["line"]} for item in body["mismatched"])
    assert body["totals"]["ledger"] is None and body["difference"] is None and body["balanced"] is False


def test_desk_reconciliation_after_the_deadline_is_complete(reconciled, api, make_user, clock):
    tender, statement, (_, webhook_only, mismatched) = reconciled
    clock.move_to(tender.bid_deadline + dt.timedelta(minutes=1))
    body = api.as_user(make_user("platform_admin")).get(
        f"/api/v1/deposits/statements/{statement.pk}/reconciliation").json()
    assert [m["txn_id"] for m in body["missing_from_statement"]] == [webhook_only.txn_id]
    assert body["missing_from_statement"][0]["virtual_account"] == webhook_only.virtual_account
    assert [m["txn_id"] for m in body["mismatched"]] == [mismatched.txn_id]
    assert body["totals"]["ledger"] is not None


def test_supervisor_with_the_desk_role_sees_everything_before_the_deadline(reconciled, api, make_user):
    _, statement, (_, webhook_only, _) = reconciled
    both = make_user("platform_admin", "supervisor")
    body = api.as_user(both).get(f"/api/v1/deposits/statements/{statement.pk}/reconciliation").json()
    assert body["missing_from_statement"][0]["txn_id"] == webhook_only.txn_id
