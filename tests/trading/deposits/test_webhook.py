"""The bank webhook: signatures, replays, idempotency, and the matching rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from audit.models import AuditEvent
from audit.sealed import stored_opened
from trading.deposits import bankmsg
from trading.models.deposit import BankTransaction, DepositEntry, DepositStatus, RefundInstruction

from .conftest import make_transfer, signed_post

pytestmark = pytest.mark.django_db


def _account(reg):
    return reg.deposit_account


def test_registration_opens_a_sub_account_with_check_digit(registered):
    from trading.deposits.vaccount import is_virtual_account

    _, regs = registered
    numbers = [_account(r).number for r in regs]
    assert len(set(numbers)) == 3
    assert all(is_virtual_account(n, "6230") for n in numbers)
    assert all(_account(r).status == DepositStatus.NONE for r in regs)


def test_valid_arrival_is_booked_and_paid(registered, notify):
    _, regs = registered
    account = _account(regs[0])
    response = notify(make_transfer(account, "100000.00"))
    assert response.status_code == 200, response.content
    assert response.json()["result"] == "booked" and response.json()["status"] == "paid"
    account.refresh_from_db()
    assert account.balance == Decimal("100000.00") and account.valid_total == Decimal("100000.00")
    assert account.status == DepositStatus.PAID
    entry = DepositEntry.objects.get(account=account)
    assert entry.kind == "arrival" and entry.valid and entry.balance_after == Decimal("100000.00")


@pytest.mark.parametrize("tamper", ["body", "secret", "signature"])
def test_forged_notifications_refused(registered, api, tamper):
    _, regs = registered
    body = bankmsg.notification_body(make_transfer(_account(regs[0])))
    if tamper == "secret":
        response = signed_post(api, body, secret="not-the-bank")
    elif tamper == "body":
        from trading import clock

        ts = int(clock.now().timestamp())
        headers = bankmsg.signed_headers(b"test-bank-secret", body, timestamp=ts)
        response = signed_post(api, body.replace(b"100000.00", b"900000.00"), headers=headers)
    else:
        response = signed_post(api, body, headers={bankmsg.TIMESTAMP_HEADER: "1"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("bad_signature", "signature_missing")
    assert not BankTransaction.objects.exists() and not DepositEntry.objects.exists()


@pytest.mark.parametrize("skew", [-310, 310, -86400])  # the window is ±300 s; 10 s clear of truncation
def test_stale_notifications_refused(registered, notify, skew):
    from trading import clock

    _, regs = registered
    response = notify(make_transfer(_account(regs[0])), timestamp=int(clock.now().timestamp()) + skew)
    assert response.status_code == 401 and response.json()["error"]["code"] == "stale"
    assert not DepositEntry.objects.exists()


def test_replayed_notification_refused(registered, api):
    from trading import clock

    _, regs = registered
    body = bankmsg.notification_body(make_transfer(_account(regs[0])))
    headers = bankmsg.signed_headers(b"test-bank-secret", body, timestamp=int(clock.now().timestamp()))
    assert signed_post(api, body, headers=headers).status_code == 200
    replay = signed_post(api, body, headers=headers)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "replayed"
    assert DepositEntry.objects.count() == 1


def test_same_notification_twice_books_once(registered, notify):
    _, regs = registered
    account = _account(regs[0])
    transfer = make_transfer(account, "60000.00")
    first = notify(transfer)
    from trading import clock

    second = notify(transfer, timestamp=int(clock.now().timestamp()) + 1)  # re-signed: not a replay
    assert first.json()["result"] == "booked" and second.status_code == 200
    assert second.json()["result"] == "duplicate" and second.json()["status"] == "insufficient"
    account.refresh_from_db()
    assert account.balance == Decimal("60000.00") and DepositEntry.objects.filter(account=account).count() == 1


def test_same_txn_id_with_other_content_is_a_conflict(registered, notify):
    _, regs = registered
    account = _account(regs[0])
    transfer = make_transfer(account, "60000.00")
    notify(transfer)
    from trading import clock

    other = make_transfer(account, "70000.00", txn_id=transfer.txn_id)
    response = notify(other, timestamp=int(clock.now().timestamp()) + 1)
    assert response.status_code == 409 and response.json()["error"]["code"] == "txn_conflict"
    account.refresh_from_db()
    assert account.balance == Decimal("60000.00")


def test_short_payment_then_top_up(registered, notify):
    _, regs = registered
    account = _account(regs[0])
    assert notify(make_transfer(account, "40000.00")).json()["status"] == "insufficient"
    account.refresh_from_db()
    assert account.status == DepositStatus.INSUFFICIENT and account.valid_total == Decimal("40000.00")
    assert notify(make_transfer(account, "59999.99")).json()["status"] == "insufficient"
    assert notify(make_transfer(account, "0.01")).json()["status"] == "paid"
    account.refresh_from_db()
    assert account.balance == account.valid_total == Decimal("100000.00")
    assert list(account.entries.values_list("balance_after", flat=True)) == [
        Decimal("40000.00"), Decimal("99999.99"), Decimal("100000.00")]


def test_wrong_payer_is_not_valid_and_returned_to_the_payer(registered, notify):
    _, regs = registered
    account = _account(regs[0])
    response = notify(make_transfer(account, "100000.00", payer="9999 0000 1111"))
    body = response.json()
    assert body["result"] == "booked" and body["valid"] is False and body["invalid_reason"] == "invalid_payer"
    account.refresh_from_db()
    assert account.status == DepositStatus.INVALID_PAYER and account.valid_total == 0
    assert account.balance == Decimal("100000.00")  # held until the bank executes the return
    instruction = RefundInstruction.objects.get(account=account)
    assert instruction.purpose == "return" and instruction.payee_account == "999900001111"
    assert instruction.principal == Decimal("100000.00") and instruction.trigger == "invalid_payer"
    # a valid payment afterwards makes the deposit valid; the wrong one is still returned
    notify(make_transfer(account, "100000.00"))
    account.refresh_from_db()
    assert account.status == DepositStatus.PAID


def test_payment_from_another_bidders_basic_account_is_not_valid(registered, notify):
    _, regs = registered
    account = _account(regs[0])
    other = regs[1].bidder
    body = notify(make_transfer(account, payer=other.basic_account_number)).json()
    assert body["valid"] is False and body["invalid_reason"] == "invalid_payer"


def test_late_arrival_is_not_valid(registered, notify, clock):
    tender, regs = registered
    account = _account(regs[0])
    clock.move_to(tender.bid_deadline + timedelta(minutes=5))
    response = notify(make_transfer(account, booked_at=tender.bid_deadline))  # at the deadline = late
    assert response.json()["invalid_reason"] == "late"
    account.refresh_from_db()
    assert account.status == DepositStatus.LATE
    # just before the deadline (reported late by the bank) still counts
    notify(make_transfer(account, booked_at=tender.bid_deadline - timedelta(seconds=1)))
    account.refresh_from_db()
    assert account.status == DepositStatus.PAID


def test_unknown_virtual_account_goes_to_suspense(registered, notify):
    from trading.deposits.vaccount import make_virtual_account

    response = notify(make_transfer(None, "5000.00", number=make_virtual_account("6230", "000000000001")))
    assert response.status_code == 200 and response.json()["result"] == "suspense"
    txn = BankTransaction.objects.get()
    assert txn.in_suspense and txn.suspense_reason == "unknown_account"
    assert not DepositEntry.objects.exists()


@pytest.mark.parametrize("body", [b"", b"{}", b"[]", b"not json", b'{"kind":"arrival","amount":1.5}',
                                  b'{"kind":"arrival","txn_id":"X","virtual_account":"1","amount":"1.00",'
                                  b'"booked_at":"2026-01-01T00:00:00"}'])
def test_malformed_bodies_are_4xx_json(registered, api, body):
    response = signed_post(api, body)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_audit_events_do_not_reveal_the_payer_before_the_deadline(registered, notify):
    tender, regs = registered
    account = _account(regs[0])
    notify(make_transfer(account))
    # The log holds commitments only (audit/sealed.py); the supervisor's privileged path opens them.
    assert not AuditEvent.objects.filter(action__startswith="deposit.").exists()
    events = [SimpleNamespace(**e) for e in stored_opened(tender.pk) if e["action"].startswith("deposit.")]
    assert {e.action for e in events} >= {"deposit.account_opened", "deposit.entries_booked"}
    booked = next(e for e in events if e.action == "deposit.entries_booked")
    assert booked.data["tender"] == tender.pk and booked.actor == "system"
    entry = dict(zip(booked.data["columns"], booked.data["entries"][0].split("|"), strict=True))
    assert entry["amount"] == "100000.00" and entry["valid"] == "1" and len(entry["account_hash"]) == 64
    assert entry["kind"] == "arrival" and entry["balance_after"] == "100000.00" and entry["value_at"].endswith("Z")
    from trading.visibility import identity_hash

    # the account_opened event links the sub-account's hash to the registration's sealed bidder hash
    opened = next(e for e in events if e.action == "deposit.account_opened" and e.data["account_hash"]
                  == entry["account_hash"])
    assert opened.data["bidder_hash"] == identity_hash(tender, "org", account.bidder_id)
    text = str([e.data for e in events]) + str(list(AuditEvent.objects.filter(
        action="sealed.committed").values_list("data", flat=True)))
    for secret in (account.number, account.bidder.name, account.bidder.basic_account_number, account.bidder.uscc):
        assert secret not in text
    assert f"organisation:{account.bidder_id}" not in text


def test_webhook_refuses_all_when_no_secret_in_production(registered, notify, settings):
    settings.BANK_WEBHOOK_SECRET = None
    settings.PRODUCTION = True
    _, regs = registered
    response = notify(make_transfer(_account(regs[0])))
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_configured"
