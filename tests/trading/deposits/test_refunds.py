"""Refunds on the legal schedule, with interest; bank confirmation; overdue warnings; forfeits."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest

from audit.models import AuditEvent, SealedOpening
from config.errors import RuleViolation, StateConflict
from trading.deposits.interest import BANK_TZ
from trading.deposits.services.forfeit import deposit_forfeit
from trading.deposits.services.refunds import (
    deposit_refunds_schedule_after_award,
    deposit_refunds_schedule_after_contract,
    deposit_refunds_schedule_after_withdrawal,
)
from trading.models.deposit import (
    DepositAccount,
    DepositStatus,
    DepositWarning,
    RefundInstruction,
    RefundPurpose,
    RefundStatus,
)
from trading.rules import add_working_days
from trading.services.scheduling import steps_run_due

from .conftest import make_transfer

pytestmark = pytest.mark.django_db


def _events(action: str) -> list[SimpleNamespace]:
    """Events of `action`, in clear or (before the deadline) sealed and opened by the privileged path."""
    clear = [SimpleNamespace(**e.as_dict()) for e in AuditEvent.objects.filter(action=action)]
    sealed = [SimpleNamespace(**o) for o in SealedOpening.objects.values_list("opening", flat=True)
              if o["action"] == action]
    return clear + sealed


def _noon(moment: dt.datetime) -> dt.datetime:
    """12:00 China time on the day of `moment`: interest days are calendar days at the bank."""
    return moment.astimezone(BANK_TZ).replace(hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture
def paid(registered, notify, clock):
    """All three bidders paid 100,000.00 at noon today (bank time); the clock stands at that noon."""
    tender, regs = registered
    noon = _noon(clock.now())
    clock.move_to(noon)
    for reg in regs:
        assert notify(make_transfer(reg.deposit_account, booked_at=noon)).json()["status"] == "paid"
    return tender, regs, noon


def _confirm(notify, instruction, *, status="executed", booked_at=None, amount=None):
    return notify(make_transfer(instruction.account, str(amount or instruction.total), kind="refund",
                                reference=instruction.reference, status=status, booked_at=booked_at,
                                number=instruction.from_account, payer=instruction.payee_account))


def test_withdrawal_refund_with_interest_then_bank_confirmation(paid, clock, notify, api, make_user):
    tender, regs, noon = paid
    clock.advance(days=10)
    withdrawn_at = clock.now()
    deposit_refunds_schedule_after_withdrawal(registration=regs[0], withdrawn_at=withdrawn_at)
    steps_run_due()
    instruction = RefundInstruction.objects.get(account__registration=regs[0])
    # 100,000.00 × 10 days × 0.35 % / 360 = 9.7222… → 9.72
    assert instruction.principal == Decimal("100000.00") and instruction.interest == Decimal("9.72")
    assert instruction.total == Decimal("100009.72") and instruction.purpose == RefundPurpose.REFUND
    assert instruction.due_at == withdrawn_at + dt.timedelta(days=5)
    assert instruction.legal_source == "招标投标法实施条例 Art 35"
    assert instruction.payee_account == regs[0].bidder.basic_account_number
    assert instruction.balance_days == Decimal("1000000.00")

    admin = make_user("platform_admin")
    response = api.as_user(admin).post("/api/v1/deposits/refund-instructions/export")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["reference"], r["amount"], r["interest"]) for r in rows] == [
        (instruction.reference, "100009.72", "9.72")]
    instruction.refresh_from_db()
    assert instruction.status == RefundStatus.EXPORTED and instruction.exported_at is not None

    clock.advance(days=1)
    body = _confirm(notify, instruction).json()
    assert body["result"] == "refund_executed" and body["status"] == "refunded"
    account = DepositAccount.objects.get(registration=regs[0])
    assert account.balance == Decimal("0.00") and account.status == DepositStatus.REFUNDED
    assert [(e.kind, e.amount) for e in account.entries.order_by("seq")] == [
        ("arrival", Decimal("100000.00")), ("interest", Decimal("9.72")), ("refund", Decimal("-100009.72"))]
    assert account.interest_total == Decimal("9.72") and account.refunded_total == Decimal("100009.72")
    instruction.refresh_from_db()
    assert instruction.status == RefundStatus.EXECUTED
    # the legal deadline passes: executed in time, no warning
    clock.advance(days=5)
    steps_run_due()
    assert not DepositWarning.objects.exists()
    # the others are untouched
    assert DepositAccount.objects.get(registration=regs[1]).status == DepositStatus.PAID


def test_interest_basis_365_and_configured_rate(paid, clock, settings):
    settings.DEPOSIT_DAY_COUNT_BASIS = 365
    settings.DEPOSIT_INTEREST_RATE = "0.015"
    _, regs, _ = paid
    clock.advance(days=73)
    deposit_refunds_schedule_after_withdrawal(regs[0])
    steps_run_due()
    instruction = RefundInstruction.objects.get(account__registration=regs[0])
    # 100,000.00 × 73 / 365 × 1.5 % = 300.00
    assert instruction.interest == Decimal("300.00") and instruction.day_count_basis == 365
    assert instruction.interest_rate == Decimal("0.015")


def test_float_interest_rate_refused(paid, settings):
    from django.core.exceptions import ImproperlyConfigured

    from trading.deposits import conf

    settings.DEPOSIT_INTEREST_RATE = 0.0035
    with pytest.raises(ImproperlyConfigured):
        conf.interest_rate()


def test_top_ups_earn_interest_from_their_own_day(registered, notify, clock):
    _, regs = registered
    account = regs[0].deposit_account
    noon = _noon(clock.now())
    clock.move_to(noon)
    notify(make_transfer(account, "60000.00", booked_at=noon))
    clock.advance(days=4)
    notify(make_transfer(account, "40000.00", booked_at=noon + dt.timedelta(days=4)))
    clock.advance(days=6)
    deposit_refunds_schedule_after_withdrawal(regs[0])
    steps_run_due()
    instruction = RefundInstruction.objects.get(account=account)
    # 60,000 × 10 + 40,000 × 6 = 840,000 CNY·days × 0.35 % / 360 = 8.1666… → 8.17
    assert instruction.balance_days == Decimal("840000.00") and instruction.interest == Decimal("8.17")
    assert instruction.items.count() == 2


def test_overdue_refund_warns_supervisors(paid, clock, api, cast):
    _, regs, _ = paid
    deposit_refunds_schedule_after_withdrawal(regs[0])
    steps_run_due()
    instruction = RefundInstruction.objects.get(account__registration=regs[0])
    clock.advance(days=5, seconds=1)
    steps_run_due()
    warning = DepositWarning.objects.get()
    assert warning.kind == "refund_overdue" and warning.instruction == instruction and warning.level == "red"
    assert len(_events("deposit.refund_overdue")) == 1
    response = api.as_user(cast.supervisor).get("/api/v1/deposits/warnings")
    assert response.status_code == 200 and response.json()["results"][0]["instruction"] == instruction.reference
    assert api.as_user(cast.bidders[0]).get("/api/v1/deposits/warnings").status_code == 403
    ack = api.as_user(cast.supervisor).post(f"/api/v1/deposits/warnings/{warning.pk}/acknowledge")
    assert ack.status_code == 200 and ack.json()["acknowledged_at"]


def test_failed_refund_warns_and_can_be_reissued(paid, clock, notify, api, make_user):
    _, regs, _ = paid
    deposit_refunds_schedule_after_withdrawal(regs[0])
    steps_run_due()
    instruction = RefundInstruction.objects.get(account__registration=regs[0])
    body = _confirm(notify, instruction, status="failed").json()
    assert body["result"] == "refund_failed"
    instruction.refresh_from_db()
    assert instruction.status == RefundStatus.FAILED
    assert DepositWarning.objects.get().kind == "refund_failed"
    admin = make_user("platform_admin")
    response = api.as_user(admin).post(f"/api/v1/deposits/refund-instructions/{instruction.reference}/reissue",
                                       {"payee_account": "6222 1111 2222"}, format="json")
    assert response.status_code == 201, response.content
    new = RefundInstruction.objects.get(reference=response.json()["reference"])
    assert new.payee_account == "622211112222" and new.total == instruction.total and new.items.count() == 1
    instruction.refresh_from_db()
    assert instruction.status == RefundStatus.SUPERSEDED
    assert _confirm(notify, new).json()["status"] == "refunded"
    # the superseded one can no longer be confirmed: that goes to suspense
    assert _confirm(notify, instruction).json()["result"] == "suspense"


def test_refund_confirmation_with_wrong_amount_goes_to_suspense(paid, notify):
    _, regs, _ = paid
    deposit_refunds_schedule_after_withdrawal(regs[0])
    steps_run_due()
    instruction = RefundInstruction.objects.get(account__registration=regs[0])
    body = _confirm(notify, instruction, amount=instruction.total - Decimal("1.00")).json()
    assert body["result"] == "suspense"
    instruction.refresh_from_db()
    assert instruction.status == RefundStatus.PENDING


def test_wrong_payer_return_is_confirmed_by_the_bank(registered, notify):
    _, regs = registered
    account = regs[0].deposit_account
    notify(make_transfer(account, "100000.00", payer="88880000"))
    instruction = RefundInstruction.objects.get(account=account)
    assert instruction.due_at > instruction.created_at and instruction.payee_account == "88880000"
    body = _confirm(notify, instruction).json()
    assert body["result"] == "refund_executed"
    account.refresh_from_db()
    assert account.balance == Decimal("0.00") and account.status == DepositStatus.INVALID_PAYER


def test_contract_refunds_everyone_within_5_days_works(paid, clock):
    tender, regs, _ = paid
    signed_at = clock.now() + dt.timedelta(days=40)
    clock.move_to(signed_at)
    armed = deposit_refunds_schedule_after_contract(tender, signed_at)
    assert len(armed) == 3
    steps_run_due()
    instructions = RefundInstruction.objects.filter(purpose=RefundPurpose.REFUND)
    assert instructions.count() == 3
    assert {i.due_at for i in instructions} == {signed_at + dt.timedelta(days=5)}
    assert {i.legal_source for i in instructions} == {"招标投标法实施条例 Art 57"}
    assert {i.trigger for i in instructions} == {"contract"}
    # running the step again instructs nothing twice
    deposit_refunds_schedule_after_contract(tender=tender, contract_signed_at=signed_at)
    steps_run_due()
    assert RefundInstruction.objects.filter(purpose=RefundPurpose.REFUND).count() == 3


def test_award_notice_refunds_nobody_under_the_bidding_law(paid, clock):
    tender, _, _ = paid
    assert deposit_refunds_schedule_after_award(tender, clock.now(), winners=[]) == []


def test_government_procurement_losers_after_award_winner_after_contract(make_draft, cast, notify, clock):
    from trading.services.registrations import registration_create
    from trading.services.tenders import tender_publish

    tender = make_draft("government_procurement")
    tender_publish(actor=cast.agent, tender=tender)
    lot = tender.lots.get()
    regs = [registration_create(actor=b, lot=lot)[0] for b in cast.bidders]
    for reg in regs:
        notify(make_transfer(reg.deposit_account))
    award_at = dt.datetime(2026, 12, 4, 10, 0, tzinfo=BANK_TZ)  # a Friday
    clock.move_to(award_at)
    armed = deposit_refunds_schedule_after_award(tender, award_at, winners=[regs[0]])
    assert {a.registration_id for a in armed} == {regs[1].pk, regs[2].pk}
    steps_run_due()
    losers = RefundInstruction.objects.filter(purpose=RefundPurpose.REFUND)
    assert losers.count() == 2
    # 5 working days from Friday 4 December = Friday 11 December (政府采购法实施条例 Art 33)
    assert {i.due_at for i in losers} == {add_working_days(award_at, 5)}
    assert {i.due_at.astimezone(BANK_TZ).date() for i in losers} == {dt.date(2026, 12, 11)}
    assert {i.legal_source for i in losers} == {"政府采购法实施条例 Art 33"}
    contract_at = dt.datetime(2026, 12, 18, 10, 0, tzinfo=BANK_TZ)
    clock.move_to(contract_at)
    deposit_refunds_schedule_after_contract(tender, contract_at)
    steps_run_due()
    winner = RefundInstruction.objects.get(account__registration=regs[0])
    assert winner.due_at.astimezone(BANK_TZ).date() == dt.date(2026, 12, 25)
    assert RefundInstruction.objects.count() == 3  # losers are not instructed twice


def test_forfeit_for_a_revoked_bid(paid, clock):
    tender, regs, _ = paid
    clock.move_to(tender.bid_deadline + dt.timedelta(minutes=30))
    account = deposit_forfeit(registration=regs[0], reason="decryption failed by the bidder's fault",
                                       source="招标投标法实施条例 Art 35")
    assert account.status == DepositStatus.FORFEITED and account.forfeit_reason == "bid_revoked"
    account.refresh_from_db()
    assert account.balance == Decimal("0.00") and account.forfeited_total == Decimal("100000.00")
    forfeit = account.entries.get(kind="forfeit")
    assert forfeit.amount == Decimal("-100000.00") and forfeit.reason == "bid_revoked"
    assert "decryption failed" in forfeit.note
    transfer = RefundInstruction.objects.get(account=account)
    assert transfer.purpose == RefundPurpose.FORFEIT_TRANSFER and transfer.interest == 0
    assert transfer.payee_account == tender.tenderer.basic_account_number
    [event] = _events("deposit.forfeited")
    assert event.data["reason"] == "bid_revoked" and event.data["legal_source"] == "招标投标法实施条例 Art 35"
    # idempotent, and excluded from the refunds after the contract
    deposit_forfeit(regs[0], "bid_revoked")
    assert DepositAccount.objects.get(pk=account.pk).entries.filter(kind="forfeit").count() == 1
    armed = deposit_refunds_schedule_after_contract(tender, clock.now())
    assert regs[0].pk not in {a.registration_id for a in armed} and len(armed) == 2


def test_forfeit_for_a_winner_refusing_to_sign(paid):
    _, regs, _ = paid
    account = deposit_forfeit(regs[1], "winner_refused_contract", note="declined in writing")
    assert account.forfeit_reason == "winner_refused_contract"
    assert _events("deposit.forfeited")[0].data["legal_source"] == "招标投标法实施条例 Art 74"


@pytest.mark.parametrize("reason", ["", "late payment", "bidder annoyed us"])
def test_forfeit_only_for_the_two_legal_reasons(paid, reason):
    _, regs, _ = paid
    with pytest.raises(RuleViolation, match="Art 35"):
        deposit_forfeit(regs[0], reason)
    assert DepositAccount.objects.get(registration=regs[0]).status == DepositStatus.PAID


def test_forfeit_refused_while_the_refund_is_under_way(paid):
    _, regs, _ = paid
    deposit_refunds_schedule_after_withdrawal(regs[0])
    steps_run_due()
    with pytest.raises(StateConflict):
        deposit_forfeit(regs[0], "bid_revoked")


def test_bank_signed_refund_export(paid, api):
    from .conftest import signed_post

    _, regs, _ = paid
    deposit_refunds_schedule_after_withdrawal(regs[0])
    steps_run_due()
    body = b'{"request": "refund_instructions"}'
    response = signed_post(api, body, path="/api/v1/deposits/bank/refund-instructions")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1 and response.json()["instructions"][0]["amount"] == "100000.00"
    assert signed_post(api, body, path="/api/v1/deposits/bank/refund-instructions", secret="x").status_code == 401
    # an unauthenticated user gets nothing from the admin export
    assert api.post("/api/v1/deposits/refund-instructions/export").status_code in (401, 403)


def test_registration_withdrawal_schedules_the_refund(paid, clock, cast):
    from trading.services.registrations import registration_withdraw

    _, regs, _ = paid
    clock.advance(days=2)
    registration_withdraw(actor=cast.bidders[0], registration=regs[0])
    account = DepositAccount.objects.get(registration=regs[0])
    assert account.refund_trigger == "withdrawal" and account.refund_deadline == account.refund_triggered_at + \
        dt.timedelta(days=5)
    steps_run_due()
    instruction = RefundInstruction.objects.get(account=account)
    assert instruction.total == Decimal("100001.94")  # 2 days: 100,000 × 2 × 0.35 % / 360 = 1.944… → 1.94
    # a registration without money schedules nothing
    assert not RefundInstruction.objects.filter(account__registration=regs[1]).exists()


def test_failed_or_cancelled_tender_refunds_everyone(paid, clock, cast):
    from trading.models import TenderStatus
    from trading.services.tender_status import tender_transition

    tender, regs, _ = paid
    clock.advance(days=1)
    tender_transition(actor=cast.agent, tender=tender, to=TenderStatus.CANCELLED, reason="test")
    steps_run_due()
    instructions = RefundInstruction.objects.filter(purpose=RefundPurpose.REFUND)
    assert instructions.count() == 3 and {i.trigger for i in instructions} == {"termination"}
    assert {i.legal_source for i in instructions} == {"招标投标法实施条例 Art 31"}
    assert len(_events("deposit.refunds_scheduled")) == 1
