"""Refunds: arming them on the legal schedule, and computing the instructions when the step runs.

Triggers other modules call (the first positional arguments may also be given by keyword):
- `deposit_refunds_schedule_after_withdrawal(registration, withdrawn_at=None)`
- `deposit_refunds_schedule_after_award(tender, award_notice_at, *, winners, lot=None)`
- `deposit_refunds_schedule_after_contract(tender, contract_signed_at, *, lot=None)`
- `deposit_refunds_schedule_after_termination(tender, terminated_at=None, *, lot=None)`
Each records why and by when an account must be refunded and schedules the `deposit_refund_due`
step, which runs `deposit_refund_compute`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from trading import clock
from trading.deposits.booking import REFUND_DUE, Ledger, lock_accounts
from trading.deposits.sealing import deposit_record, sealed_refs
from trading.models import Registration, Tender
from trading.models.deposit import DepositAccount, DepositEntry, EntryKind, RefundInstruction, RefundPurpose
from trading.rules import deposit_refund_rules
from trading.services.scheduling import step_schedule


def registration_of(registration) -> Registration:
    """A Registration given as itself or by its primary key."""
    if isinstance(registration, Registration):
        return registration
    return Registration.objects.get(pk=int(registration))


def _arm(account: DepositAccount, *, trigger: str, at: datetime, deadline: datetime, source: str) -> dict:
    """Record why and by when the account must be refunded and schedule the step that computes the
    refund at once; returns the audit row (callers write the event after every lock is taken)."""
    account.refund_trigger, account.refund_triggered_at = trigger, at
    account.refund_deadline, account.refund_source = deadline, source
    account.updated_at = clock.now()
    account.save(update_fields=["refund_trigger", "refund_triggered_at", "refund_deadline", "refund_source",
                                "updated_at"])
    step_schedule(kind=REFUND_DUE, subject=f"trading.depositaccount:{account.pk}", due_at=clock.now(),
                  tender=account.tender, lot=account.lot)
    return {**sealed_refs(account), "deadline": deadline}


def _record_armed(tender, rows: list[dict], *, trigger: str, at: datetime, source: str) -> None:
    if rows:
        deposit_record(
            actor="system",
            action="deposit.refunds_scheduled",
            obj=f"trading.tender:{tender.pk}",
            data={"tender": tender.pk, "trigger": trigger, "triggered_at": at, "legal_source": source,
                  "accounts": rows},
        )


def _accounts(tender, lot=None, exclude_bidders: Iterable[int] = ()) -> list[DepositAccount]:
    qs = DepositAccount.objects.select_for_update(of=("self",)).filter(tender=tender).select_related(
        "tender", "lot", "bidder", "registration").order_by("pk")
    if lot is not None:
        qs = qs.filter(lot=lot)
    exclude = set(exclude_bidders)
    return [a for a in qs.filter(balance__gt=0) if a.bidder_id not in exclude and a.forfeited_at is None]


@transaction.atomic
def deposit_refunds_schedule_after_withdrawal(registration=None, withdrawn_at: datetime | None = None, *,
                                              actor="system") -> DepositAccount | None:
    """A bid (or registration) withdrawn before the deadline: refund within 5 days (实施条例 Art 35;
    government procurement 5 working days)."""
    registration = registration_of(registration)
    account = next(iter(lock_accounts(pks=DepositAccount.objects.filter(
        registration=registration).values_list("pk", flat=True)).values()), None)
    if account is None:
        return None
    at = withdrawn_at or clock.now()
    rule = deposit_refund_rules(account.tender.procedure_type).after_withdrawal
    row = _arm(account, trigger="withdrawal", at=at, deadline=rule.after(at), source=rule.source)
    _record_armed(account.tender, [row], trigger="withdrawal", at=at, source=rule.source)
    return account


def _org_ids(winners) -> set[int]:
    ids = set()
    for w in winners:
        if isinstance(w, Registration):
            ids.add(w.bidder_id)
        elif isinstance(w, int):
            ids.add(w)
        else:
            ids.add(getattr(w, "bidder_id", None) or w.pk)
    return ids


@transaction.atomic
def deposit_refunds_schedule_after_award(tender=None, award_notice_at: datetime | None = None, *, winners,
                                         lot=None, actor="system") -> list[DepositAccount]:
    """Government procurement: losers within 5 working days of the award notice (政府采购法实施条例 Art 33).

    Under the Bidding Law losers wait for the contract (实施条例 Art 57): nothing to do here.
    `winners` (registrations, organisations or organisation ids: the awarded bidders, which the
    evaluation passes) are kept."""
    tender = tender if isinstance(tender, Tender) else Tender.objects.get(pk=int(tender))
    rules = deposit_refund_rules(tender.procedure_type)
    if rules.losers_after_award is None:
        return []
    at = award_notice_at or clock.now()
    keep = _org_ids(winners)
    rule = rules.losers_after_award
    armed = _accounts(tender, lot, exclude_bidders=keep)
    rows = [_arm(a, trigger="award", at=at, deadline=rule.after(at), source=rule.source) for a in armed]
    _record_armed(tender, rows, trigger="award", at=at, source=rule.source)
    return armed


@transaction.atomic
def deposit_refunds_schedule_after_contract(tender=None, contract_signed_at: datetime | None = None, *, lot=None,
                                            actor="system") -> list[DepositAccount]:
    """Written contract signed: refund the winner and every loser not yet refunded within 5 days
    (实施条例 Art 57; government procurement: 5 working days, 政府采购法实施条例 Art 33)."""
    tender = tender if isinstance(tender, Tender) else Tender.objects.get(pk=int(tender))
    rule = deposit_refund_rules(tender.procedure_type).after_contract
    at = contract_signed_at or clock.now()
    armed = _accounts(tender, lot)
    rows = [_arm(a, trigger="contract", at=at, deadline=rule.after(at), source=rule.source) for a in armed]
    _record_armed(tender, rows, trigger="contract", at=at, source=rule.source)
    return armed


@transaction.atomic
def deposit_refunds_schedule_after_termination(tender=None, terminated_at: datetime | None = None, *, lot=None,
                                               actor="system") -> list[DepositAccount]:
    """Tender terminated or failed (流标): refund everyone promptly (实施条例 Art 31)."""
    tender = tender if isinstance(tender, Tender) else Tender.objects.get(pk=int(tender))
    rule = deposit_refund_rules(tender.procedure_type).after_termination
    at = terminated_at or clock.now()
    armed = _accounts(tender, lot)
    rows = [_arm(a, trigger="termination", at=at, deadline=rule.after(at), source=rule.source) for a in armed]
    _record_armed(tender, rows, trigger="termination", at=at, source=rule.source)
    return armed


# --- computation (run by the step) ----------------------------------------------------------------


def uncovered_arrivals(account: DepositAccount) -> list[DepositEntry]:
    """The account's arrivals not yet covered by a refund or forfeit instruction, in booking order."""
    return list(
        DepositEntry.objects.filter(account=account, kind=EntryKind.ARRIVAL, refund_item__isnull=True)
        .select_related("bank_transaction")
        .order_by("seq")
    )


def deposit_refund_compute(*, account: DepositAccount) -> list[RefundInstruction]:
    """Instruct the refund of everything the account still holds, with interest to today, to the
    accounts the money came from (the basic account, for valid deposits). Run by the
    `deposit_refund_due` step inside its transaction; idempotent (covered arrivals are skipped)."""
    account = next(iter(lock_accounts(pks=[account.pk]).values()))
    arrivals = uncovered_arrivals(account)
    if not arrivals or not account.refund_deadline:
        return []
    now = clock.now()
    ledger = Ledger(now=now, source="refund")
    by_payer: dict[tuple[str, str, str], list[DepositEntry]] = {}
    for entry in arrivals:
        txn = entry.bank_transaction
        payee = (txn.counterparty_account, txn.counterparty_name, txn.counterparty_bank) if txn else (
            account.bidder.basic_account_number, account.bidder.basic_account_name, account.bidder.basic_account_bank)
        by_payer.setdefault(payee, []).append(entry)
    made = []
    for payee, covered in by_payer.items():
        made.append(ledger.instruct(
            account=account, purpose=RefundPurpose.REFUND, trigger=account.refund_trigger,
            legal_source=account.refund_source, covered=covered, payee=payee, from_account=account.number,
            due_at=max(account.refund_deadline, now),
        ))
    ledger.flush()
    return made
