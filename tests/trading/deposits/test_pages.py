"""Deposit pages for bidders, the platform administrator and supervisors."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from trading.deposits.services.refunds import deposit_refunds_schedule_after_withdrawal
from trading.deposits.statement import write_statement
from trading.deposits.vaccount import make_virtual_account
from trading.models.deposit import BankTransaction, DepositWarning, RefundInstruction
from trading.services.scheduling import steps_run_due

from .conftest import make_transfer

pytestmark = pytest.mark.django_db


def _csv(transfers) -> bytes:
    out = io.StringIO()
    write_statement(out, transfers)
    return out.getvalue().encode()


def test_bidder_pages(registered, notify, client, cast):
    _, regs = registered
    account = regs[0].deposit_account
    notify(make_transfer(account, "40000.00"))
    client.force_login(cast.bidders[0])
    html = client.get("/bidder/deposits/").content.decode()
    assert account.number in html and "¥40,000.00" in html
    detail = client.get(f"/bidder/deposits/{account.public_id}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert account.number[:4] in text and "¥40,000.00" in text and regs[0].bidder.basic_account_number in text
    assert 'data-amount="shortfall"' in text and "¥60,000.00" in text  # paid 40,000 of 100,000: short 60,000
    # another bidder's sub-account does not exist for this bidder
    assert client.get(f"/bidder/deposits/{regs[1].deposit_account.public_id}/").status_code == 404
    client.force_login(cast.agent)
    assert client.get("/bidder/deposits/").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/bidder/deposits/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_tender_page_sealed_by_role(registered, notify, client, cast, clock):
    tender, regs = registered
    notify(make_transfer(regs[0].deposit_account))
    url = f"/tenders/{tender.pk}/deposits/"
    client.force_login(cast.supervisor)
    html = client.get(url).content.decode()
    assert regs[0].bidder.name in html and "Sealed until the bid deadline" in html
    client.force_login(cast.agent)
    assert client.get(url).status_code == 403
    clock.move_to(tender.bid_deadline + dt.timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 200 and regs[0].bidder.name in response.content.decode()


def test_admin_desk_statement_reconciliation_suspense_and_export(registered, notify, client, make_user, clock):
    tender, regs = registered
    admin = make_user("platform_admin")
    client.force_login(admin)
    t1, t2 = make_transfer(regs[0].deposit_account), make_transfer(regs[1].deposit_account)
    notify(t1)
    notify(t2)
    stray = make_transfer(None, "77.00", number=make_virtual_account("6230", "000000000077"))
    notify(stray)
    html = client.get("/platform/deposits/").content.decode()
    assert stray.txn_id in html
    upload = SimpleUploadedFile("day.csv", _csv([t1, t1, stray]), content_type="text/csv")
    response = client.post("/platform/deposits/statements/", {"file": upload})
    assert response.status_code == 302
    report = client.get(response["Location"]).content.decode()
    # Before the bid deadline the desk sees that lines are unmatched, not whose (issue 15).
    assert t1.txn_id not in report and t2.txn_id not in report and "Differences found" in report
    assert "sealed until the bid deadline" in report
    clock.move_to(tender.bid_deadline + dt.timedelta(minutes=1))
    report = client.get(response["Location"]).content.decode()
    assert t1.txn_id in report and t2.txn_id in report and "Differences found" in report
    txn = BankTransaction.objects.get(txn_id=stray.txn_id)
    response = client.post(f"/platform/deposits/suspense/{txn.pk}/resolve/", {"action": "return", "note": "unknown"})
    assert response.status_code == 302
    txn.refresh_from_db()
    assert txn.outcome == "returned"
    export = client.post("/platform/deposits/refunds/export/")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert RefundInstruction.objects.get(bank_transaction=txn).reference in export.content.decode()
    client.force_login(regs[0].registered_by)
    assert client.get("/platform/deposits/").status_code == 403


def test_admin_refund_list_masks_payees_of_sealed_tenders(registered, notify, client, make_user):
    _, regs = registered
    notify(make_transfer(regs[0].deposit_account, payer="55550000"))  # wrong payer: returned at once
    client.force_login(make_user("platform_admin"))
    html = client.get("/platform/deposits/").content.decode()
    assert RefundInstruction.objects.get().reference in html and "55550000" not in html


def test_supervisor_desk_and_acknowledgement(registered, notify, client, cast, clock):
    _, regs = registered
    notify(make_transfer(regs[0].deposit_account))
    deposit_refunds_schedule_after_withdrawal(regs[0])
    steps_run_due()
    clock.advance(days=6)
    steps_run_due()
    warning = DepositWarning.objects.get()
    client.force_login(cast.supervisor)
    html = client.get("/supervisor/deposits/").content.decode()
    assert warning.instruction.reference in html
    assert client.post(f"/supervisor/deposits/warnings/{warning.pk}/acknowledge/").status_code == 302
    warning.refresh_from_db()
    assert warning.acknowledged_by == cast.supervisor
    client.force_login(cast.bidders[0])
    assert client.get("/supervisor/deposits/").status_code == 403


def test_navigation_by_role(client, cast, make_user):
    client.force_login(cast.bidders[0])
    assert "/bidder/deposits/" in client.get("/").content.decode()
    client.force_login(cast.supervisor)
    assert "/supervisor/deposits/" in client.get("/").content.decode()
    client.force_login(make_user("platform_admin"))
    assert "/platform/deposits/" in client.get("/").content.decode()
