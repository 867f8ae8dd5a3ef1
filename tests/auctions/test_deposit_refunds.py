"""Auction deposits refunded through the deposits' bank instructions: a trade ends, the losers' refund
instructions are in both exports (admin CSV, the bank's signed request), the bank reports them executed
and the buyers are refunded; the winner gets none; every step is idempotent; overdue and failed refunds
warn supervisors like tender refunds (docs/auctions.md, "Deposit refunds"; docs/deposits.md, "Refund origins")."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta
from decimal import Decimal

import pytest

from auctions.models import Buyer, DepositState, TradeStatus
from auctions.rules import rules_for
from auctions.services.bidding import bid_place, trade_advance
from auctions.services.buyers import REFUND_ORIGIN, buyer_apply, buyer_review, deposit_arrival_book
from audit.models import AuditEvent
from tests.auctions.conftest import enrol, new_trade, release_shares
from trading.deposits import bankmsg
from trading.deposits.bankmsg import Transfer
from trading.deposits.services.instructions import refund_instruction_reissue
from trading.models.deposit import DepositWarning, RefundInstruction, RefundPurpose, RefundStatus, WarningKind
from trading.services.scheduling import steps_run_due

pytestmark = pytest.mark.django_db
SECRET = "test-bank-secret"
_txn = itertools.count(1)


@pytest.fixture(autouse=True)
def _bank(settings):
    settings.BANK_WEBHOOK_SECRET = SECRET


def _post(api, body: bytes, path: str = "/api/v1/deposits/bank-notifications"):
    from trading import clock

    headers = bankmsg.signed_headers(SECRET.encode(), body, timestamp=int(clock.now().timestamp()))
    return api.post(path, data=body, content_type="application/json",
                    **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})


def _report(api, instruction: RefundInstruction, *, status: str = "executed", txn_id: str | None = None):
    """The bank's refund notification for `instruction` (what its execution report says)."""
    from trading import clock

    transfer = Transfer(kind="refund", txn_id=txn_id or f"RFX{next(_txn):06d}",
                        virtual_account=instruction.from_account, amount=instruction.total,
                        booked_at=clock.now() - timedelta(seconds=1),
                        counterparty_account=instruction.payee_account, counterparty_name=instruction.payee_name,
                        counterparty_bank=instruction.payee_bank, reference=instruction.reference, status=status,
                        failure_reason="account closed" if status == "failed" else "")
    return _post(api, bankmsg.notification_body(transfer))


def _sold_listing(world, fake_clock):
    """A land listing with three paid buyers, sold to buyer 1 (buyers 0 and 2 lose)."""
    trade = new_trade(world)
    buyers = enrol(world, trade, world.buyers[:3])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="900000.00")
    bid_place(actor=world.buyers[1], buyer=buyers[1], amount="1100000.00")
    fake_clock.set(trade.listing_ends_at + timedelta(seconds=1))
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.CLOSED
    trade = release_shares(world, trade)
    assert trade.status == TradeStatus.SOLD and trade.holder_id == buyers[1].pk
    return trade, [Buyer.objects.get(pk=b.pk) for b in buyers]


def test_losers_refunds_are_exported_executed_by_the_bank_and_the_winner_gets_none(world, fake_clock, api):
    trade, (loser_a, winner, loser_b) = _sold_listing(world, fake_clock)
    rule = rules_for(trade.kind).deposit_refund
    instructions = {int(i.origin_ref): i for i in RefundInstruction.objects.filter(origin=REFUND_ORIGIN)}
    assert set(instructions) == {loser_a.pk, loser_b.pk}  # the winner's deposit is applied to the price
    for buyer in (loser_a, loser_b):
        i = instructions[buyer.pk]
        org = buyer.organisation
        assert buyer.deposit_state == DepositState.REFUND_DUE
        assert (i.purpose, i.status, i.account_id, i.tender_id) == (RefundPurpose.REFUND, RefundStatus.PENDING,
                                                                   None, None)
        assert i.from_account == buyer.deposit_account and i.payee_account == org.basic_account_number
        assert i.principal == i.total == Decimal("100000.00") and i.interest == 0  # 39号令 Art 23*: no interest
        assert i.due_at == trade.refund_due_at and i.legal_source == rule.source
        assert i.trigger == "auction_not_winner"
    assert Buyer.objects.get(pk=winner.pk).deposit_state == DepositState.APPLIED

    # The platform admin's CSV export lists them exactly like tender refunds.
    response = api.as_user(world.admin).post("/api/v1/deposits/refund-instructions/export")
    assert response.status_code == 200, response.content
    rows = {r["reference"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert set(rows) == {i.reference for i in instructions.values()}
    row = rows[instructions[loser_a.pk].reference]
    assert (row["from_account"], row["payee_account"], row["amount"], row["interest"], row["legal_source"]) == (
        loser_a.deposit_account, loser_a.organisation.basic_account_number, "100000.00", "0.00", rule.source)
    # ... and the bank's signed request too (exported instructions stay open until executed).
    response = _post(api, b'{"request": "refund_instructions"}', path="/api/v1/deposits/bank/refund-instructions")
    assert response.status_code == 200, response.content
    assert {r["reference"] for r in response.json()["instructions"]} == set(rows)
    listed = api.as_user(world.admin).get("/api/v1/deposits/refund-instructions").json()
    listed = listed.get("results", listed)
    assert {r["origin"] for r in listed} == {REFUND_ORIGIN}
    assert all(r["payee_account"] != "sealed" for r in listed)  # the trade is decided: payees shown

    # The bank executes loser A's refund: A is refunded, B still due.
    first = instructions[loser_a.pk]
    body = _report(api, first, txn_id="RFXA1").json()
    assert body["result"] == "refund_executed"
    assert Buyer.objects.get(pk=loser_a.pk).deposit_state == DepositState.REFUNDED
    assert Buyer.objects.get(pk=loser_b.pk).deposit_state == DepositState.REFUND_DUE
    first.refresh_from_db()
    assert first.status == RefundStatus.EXECUTED and first.executed_at is not None
    assert AuditEvent.objects.filter(action="auction.deposit_refunded", object=f"auctions.buyer:{loser_a.pk}").count() \
        == 1
    assert AuditEvent.objects.filter(action="deposit.refund_executed").count() == 1

    # Idempotent: the bank re-sends the same report (signed again, later): nothing booked twice.
    fake_clock.advance(seconds=5)
    again = _report(api, first, txn_id="RFXA1")
    assert again.status_code == 200 and again.json()["result"] == "duplicate"
    assert AuditEvent.objects.filter(action="auction.deposit_refunded").count() == 1

    _report(api, instructions[loser_b.pk])
    assert Buyer.objects.get(pk=loser_b.pk).deposit_state == DepositState.REFUNDED
    # Nothing is left to export.
    response = api.as_user(world.admin).post("/api/v1/deposits/refund-instructions/export")
    assert list(csv.DictReader(io.StringIO(response.content.decode()))) == []


def test_instructions_are_made_once(world, fake_clock):
    from auctions.services.buyers import refund_losers

    trade, (loser_a, winner, loser_b) = _sold_listing(world, fake_clock)
    before = RefundInstruction.objects.filter(origin=REFUND_ORIGIN).count()
    events = AuditEvent.objects.filter(action="auction.deposit_refund_due").count()
    refund_losers(trade, winner=winner, due_at=trade.refund_due_at)  # the end settled twice: nothing new
    assert RefundInstruction.objects.filter(origin=REFUND_ORIGIN).count() == before == 2
    assert AuditEvent.objects.filter(action="auction.deposit_refund_due").count() == events


def test_two_payer_accounts_two_instructions_refunded_when_both_are_executed(world, fake_clock, api):
    trade = new_trade(world)
    user = world.buyers[0]
    buyer = buyer_apply(actor=user, trade=trade, documents=[{"name": "a.pdf", "size": 1, "sha256": "b" * 64}])
    buyer_review(actor=world.agent, buyer=buyer, qualified=True)
    deposit_arrival_book(account_number=buyer.deposit_account, amount="60000.00",
                         payer_account=user.organisation.basic_account_number, txn_id="TWO-1")
    deposit_arrival_book(account_number=buyer.deposit_account, amount="40000.00", payer_account="6222000000009999",
                         txn_id="TWO-2")
    others = enrol(world, trade, world.buyers[1:3])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[1], buyer=others[0], amount="1200000.00")
    fake_clock.set(trade.listing_ends_at + timedelta(seconds=1))
    release_shares(world, trade_advance(trade=trade))
    mine = list(RefundInstruction.objects.filter(origin=REFUND_ORIGIN, origin_ref=str(buyer.pk)).order_by("pk"))
    assert [(i.payee_account, i.total) for i in mine] == [
        (user.organisation.basic_account_number, Decimal("60000.00")), ("6222000000009999", Decimal("40000.00"))]
    assert mine[1].payee_name == ""  # the bank knows the holder of an account that is not the basic account
    _report(api, mine[0])
    assert Buyer.objects.get(pk=buyer.pk).deposit_state == DepositState.REFUND_DUE
    _report(api, mine[1])
    assert Buyer.objects.get(pk=buyer.pk).deposit_state == DepositState.REFUNDED


def test_a_rejected_applicant_is_refunded_with_its_payee_masked_until_the_end(world, fake_clock, api):
    trade = new_trade(world)
    user = world.buyers[3]
    buyer = buyer_apply(actor=user, trade=trade, documents=[{"name": "a.pdf", "size": 1, "sha256": "c" * 64}])
    deposit_arrival_book(account_number=buyer.deposit_account, amount="100000.00",
                         payer_account=user.organisation.basic_account_number, txn_id="REJ-1")
    buyer_review(actor=world.agent, buyer=buyer, qualified=False, note="licence expired")
    [instruction] = RefundInstruction.objects.filter(origin=REFUND_ORIGIN, origin_ref=str(buyer.pk))
    assert instruction.trigger == "auction_rejected"
    assert instruction.due_at == rules_for(trade.kind).deposit_refund.after(fake_clock.t)
    # Who applied is not public before the end: the admin list masks the payee; the bank's file names it.
    listed = api.as_user(world.admin).get("/api/v1/deposits/refund-instructions").json()
    [row] = listed.get("results", listed)
    assert row["payee_account"] == "sealed" and row["payee_name"] == "sealed"
    _report(api, instruction)
    assert Buyer.objects.get(pk=buyer.pk).deposit_state == DepositState.REFUNDED
    # Money arriving later on the sub-account goes back as well (a new instruction for the rest only).
    deposit_arrival_book(account_number=buyer.deposit_account, amount="500.00",
                         payer_account=user.organisation.basic_account_number, txn_id="REJ-2")
    later = RefundInstruction.objects.filter(origin=REFUND_ORIGIN, origin_ref=str(buyer.pk)).exclude(
        pk=instruction.pk).get()
    assert later.total == Decimal("500.00") and later.trigger == "auction_late_arrival"
    assert Buyer.objects.get(pk=buyer.pk).deposit_state == DepositState.REFUND_DUE


def test_overdue_and_failed_auction_refunds_warn_supervisors_and_can_be_reissued(world, fake_clock, api):
    trade, (loser_a, _winner, loser_b) = _sold_listing(world, fake_clock)
    failing = RefundInstruction.objects.get(origin=REFUND_ORIGIN, origin_ref=str(loser_a.pk))
    assert _report(api, failing, status="failed").json()["result"] == "refund_failed"
    assert DepositWarning.objects.filter(kind=WarningKind.REFUND_FAILED, instruction=failing).exists()
    assert Buyer.objects.get(pk=loser_a.pk).deposit_state == DepositState.REFUND_DUE
    failing.refresh_from_db()
    new = refund_instruction_reissue(actor=world.admin, instruction=failing, payee_account="6222 0000 0000 7777")
    assert (new.origin, new.origin_ref, new.payee_account) == (REFUND_ORIGIN, str(loser_a.pk), "6222000000007777")
    # The refund deadline passes with B's refund not executed: the overdue step warns supervisors.
    fake_clock.set(trade.refund_due_at + timedelta(seconds=1))
    steps_run_due()
    late = RefundInstruction.objects.get(origin=REFUND_ORIGIN, origin_ref=str(loser_b.pk))
    warning = DepositWarning.objects.get(kind=WarningKind.REFUND_OVERDUE, instruction=late)
    assert warning.tender_id is None and late.legal_source in warning.message
    assert DepositWarning.objects.filter(kind=WarningKind.REFUND_OVERDUE, instruction=new).exists()
    # The re-issued refund executed (late): A is refunded.
    _report(api, new)
    assert Buyer.objects.get(pk=loser_a.pk).deposit_state == DepositState.REFUNDED


def test_a_stopped_auction_refunds_everyone(world, fake_clock):
    trade = new_trade(world, kind="land_auction")
    buyers = enrol(world, trade, world.buyers[:2])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.STOPPED
    refs = set(RefundInstruction.objects.filter(origin=REFUND_ORIGIN).values_list("origin_ref", flat=True))
    assert refs == {str(b.pk) for b in buyers}
