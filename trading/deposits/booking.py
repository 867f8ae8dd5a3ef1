"""Booking what the bank reports: the one code path of notifications and statement lines.

`transfers_book(transfers, ...)` runs inside the caller's transaction and handles any
number of transfers with a fixed number of queries (bulk inserts and one locked read
of the sub-accounts), so that a statement of 100,000 lines imports in chunks at
thousands of lines per second and a single notification costs a handful of queries.

Per transfer (docs/deposits.md has the table):
- the bank's `txn_id` seen before with the same content → "duplicate" (nothing booked);
  with other content → "conflict" (refused, reported).
- arrival on an unknown sub-account → a suspense transaction for the platform admin.
- arrival on a known one → a ledger entry, valid unless paid from another account than
  the bidder's basic account (实施条例 Art 26), or booked at/after the bid deadline, or
  after the registration was withdrawn. Valid arrivals add up (top-ups); the status
  follows (insufficient → paid). Invalid ones are returned to the payer at once by a
  refund instruction.
- refund (debit) with a known instruction reference, sub-account and amount → the
  instruction is executed: interest and refund entries are booked. A failed refund
  marks the instruction failed and warns supervisors. Anything else → suspense.

Concurrency: the sub-accounts and instructions concerned are locked (`select_for_update`,
in primary-key order) before the transactions already known are read, so concurrent
notifications for one sub-account serialize and each sees the other's balance. Two
notifications with the same new `txn_id` for an unknown account may race on the unique
constraint: the loser's transaction fails with IntegrityError and the caller retries.

Audit: every entry appears in a "deposit.entries_booked" event of its tender (one event
per tender per call, listing the entries), carrying hashes instead of identities.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from audit.services import audit_record
from trading import clock
from trading.deposits import conf
from trading.deposits.bankmsg import ARRIVAL, FAILED, Transfer
from trading.deposits.interest import compute_interest
from trading.deposits.money import ZERO
from trading.deposits.sealing import sealed_refs
from trading.deposits.vaccount import normalize_account_number
from trading.models import RegistrationStatus, ScheduledStep
from trading.models.deposit import (
    OPEN_REFUND_STATUSES,
    BankTransaction,
    DepositAccount,
    DepositEntry,
    DepositStatus,
    DepositWarning,
    EntryKind,
    InvalidReason,
    RefundInstruction,
    RefundItem,
    RefundPurpose,
    RefundStatus,
    SuspenseReason,
    TransferOutcome,
    TransferSource,
    WarningKind,
)
from trading.rules import deposit_refund_rules

REFUND_DUE = "deposit_refund_due"
REFUND_OVERDUE = "deposit_refund_overdue"

BOOKED = "booked"
DUPLICATE = "duplicate"
CONFLICT = "conflict"
SUSPENSE = "suspense"
REFUND_EXECUTED = "refund_executed"
REFUND_FAILED = "refund_failed"


@dataclass
class BookResult:
    txn_id: str
    result: str
    status: str | None = None  # the sub-account's deposit status afterwards
    valid: bool | None = None
    invalid_reason: str = ""
    message: str = ""


# --- status -------------------------------------------------------------------------------------


def compute_status(account: DepositAccount, required: Decimal) -> str:
    """The deposit status from the cached totals (docs/deposits.md, "Status")."""
    if account.forfeited_at is not None:
        return DepositStatus.FORFEITED
    if account.valid_total > 0 and account.valid_total >= required:
        return DepositStatus.PAID
    if required > 0 and account.guarantee_amount >= required:
        return DepositStatus.GUARANTEED
    if account.valid_total > 0:
        return DepositStatus.INSUFFICIENT
    if account.settled_at is not None:
        return DepositStatus.REFUNDED
    if account.late_total > 0:
        return DepositStatus.LATE
    if account.invalid_payer_total > 0:
        return DepositStatus.INVALID_PAYER
    return DepositStatus.NONE


def refresh_status(account: DepositAccount) -> str:
    account.status = compute_status(account, account.lot.deposit_amount)
    return account.status


ACCOUNT_CACHE_FIELDS = [
    "balance",
    "valid_total",
    "invalid_payer_total",
    "late_total",
    "interest_total",
    "refunded_total",
    "forfeited_total",
    "guarantee_amount",
    "entry_count",
    "status",
    "settled_at",
    "forfeited_at",
    "forfeit_reason",
    "updated_at",
]


# --- helpers shared with the services -------------------------------------------------------------


def new_reference() -> str:
    """A refund instruction reference: "RF" + 12 random hex digits (unique in the database)."""
    return "RF" + secrets.token_hex(6).upper()


def lock_accounts(*, numbers: Iterable[str] = (), pks: Iterable[int] = ()) -> dict[int, DepositAccount]:
    numbers, pks = list(set(numbers)), list(set(pks))
    if not numbers and not pks:
        return {}
    qs = (
        DepositAccount.objects.select_for_update(of=("self",))
        .filter(Q(number__in=numbers) | Q(pk__in=pks))
        .select_related("tender", "lot", "bidder", "registration")
        .order_by("pk")
    )
    return {a.pk: a for a in qs}


def classify_arrival(account: DepositAccount, transfer_booked_at: datetime, payer_account: str) -> str:
    """"" for a valid deposit, or the InvalidReason of one that is not."""
    basic = normalize_account_number(account.bidder.basic_account_number)
    if not basic or normalize_account_number(payer_account) != basic:
        return InvalidReason.INVALID_PAYER
    if transfer_booked_at >= account.tender.bid_deadline:
        return InvalidReason.LATE
    if account.registration.status != RegistrationStatus.REGISTERED:
        return InvalidReason.WITHDRAWN
    return ""


class Ledger:
    """Entries, instructions and events of one booking call, written in bulk by `flush()`."""

    def __init__(self, *, now: datetime, source: str) -> None:
        self.now = now
        self.source = source
        self.entries: list[DepositEntry] = []
        self.touched: dict[int, DepositAccount] = {}
        # (instruction, [entries it covers]) to create after the entries exist.
        self.new_instructions: list[tuple[RefundInstruction, list[DepositEntry]]] = []
        self.changed_instructions: dict[int, RefundInstruction] = {}
        self.warnings: list[DepositWarning] = []
        self.events: list[tuple[str, str, dict]] = []

    def book(
        self, account: DepositAccount, *, kind: str, amount: Decimal, value_at: datetime, **fields
    ) -> DepositEntry:
        account.entry_count += 1
        account.balance += amount
        entry = DepositEntry(
            account=account,
            seq=account.entry_count,
            kind=kind,
            amount=amount,
            balance_after=account.balance,
            value_at=value_at,
            created_at=self.now,
            **fields,
        )
        self.entries.append(entry)
        self.touched[account.pk] = account
        return entry

    def instruct(
        self,
        *,
        account: DepositAccount | None,
        purpose: str,
        trigger: str,
        legal_source: str,
        covered: Sequence[DepositEntry] = (),
        principal: Decimal | None = None,
        value_dates: Sequence[tuple[Decimal, datetime]] = (),
        payee: tuple[str, str, str],
        from_account: str,
        due_at: datetime,
        tender=None,
        bank_transaction: BankTransaction | None = None,
        with_interest: bool = True,
    ) -> RefundInstruction:
        """A refund instruction paying back `covered` arrivals (or `principal`) with interest to today."""
        if principal is None:
            principal = sum((e.amount for e in covered), ZERO)
            value_dates = [(e.amount, e.value_at) for e in covered]
        rate, basis = conf.interest_rate(), conf.day_count_basis()
        result = compute_interest(value_dates, until=self.now, rate=rate if with_interest else Decimal(0), basis=basis)
        instruction = RefundInstruction(
            reference=new_reference(),
            purpose=purpose,
            trigger=trigger,
            legal_source=legal_source,
            account=account,
            bank_transaction=bank_transaction,
            tender=tender if tender is not None else (account.tender if account else None),
            from_account=from_account,
            payee_account=payee[0],
            payee_name=payee[1],
            payee_bank=payee[2],
            principal=principal,
            interest=result.interest,
            total=principal + result.interest,
            interest_rate=result.rate,
            day_count_basis=basis,
            interest_until=result.until,
            balance_days=result.balance_days,
            due_at=due_at,
            created_at=self.now,
        )
        self.new_instructions.append((instruction, list(covered)))
        return instruction

    def event(self, action: str, obj: str, data: dict) -> None:
        self.events.append((action, obj, data))

    def flush(self, *, actor="system") -> None:
        """Write everything collected, in bulk, then the audit events."""
        if self.entries:
            DepositEntry.objects.bulk_create(self.entries, batch_size=2000)
        if self.new_instructions:
            instructions = [i for i, _ in self.new_instructions]
            RefundInstruction.objects.bulk_create(instructions, batch_size=2000)
            items = [RefundItem(instruction=i, entry=e) for i, covered in self.new_instructions for e in covered]
            if items:
                RefundItem.objects.bulk_create(items, batch_size=2000)
            ScheduledStep.objects.bulk_create(
                [
                    ScheduledStep(
                        kind=REFUND_OVERDUE,
                        subject=f"trading.refundinstruction:{i.pk}",
                        tender_id=i.tender_id,
                        lot_id=i.account.lot_id if i.account_id else None,
                        due_at=i.due_at,
                    )
                    for i in instructions
                ],
                batch_size=2000,
            )
        if self.changed_instructions:
            RefundInstruction.objects.bulk_update(
                list(self.changed_instructions.values()),
                ["status", "executed_at", "executed_txn", "failed_at", "failure_reason"],
                batch_size=1000,
            )
        if self.touched:
            for account in self.touched.values():
                refresh_status(account)
                account.updated_at = self.now
            DepositAccount.objects.bulk_update(list(self.touched.values()), ACCOUNT_CACHE_FIELDS, batch_size=1000)
        for warning in self.warnings:
            DepositWarning.objects.get_or_create(
                kind=warning.kind,
                instruction=warning.instruction,
                defaults={
                    "level": warning.level,
                    "tender": warning.tender,
                    "message": warning.message,
                    "raised_at": warning.raised_at,
                },
            )
        self._entry_events()
        self._instruction_events()
        for action, obj, data in self.events:
            audit_record(actor=actor, action=action, obj=obj, data=data)

    def _entry_events(self) -> None:
        by_tender: dict[int, list[dict]] = defaultdict(list)
        for e in self.entries:
            account = e.account
            by_tender[account.tender_id].append(
                {
                    "entry": e.pk,
                    "seq": e.seq,
                    **sealed_refs(account),
                    "kind": e.kind,
                    "amount": e.amount,
                    "balance_after": e.balance_after,
                    "valid": e.valid,
                    "invalid_reason": e.invalid_reason,
                    "reason": e.reason,
                    "txn": e.bank_transaction.txn_id if e.bank_transaction_id else None,
                    "instruction": e.instruction.reference if e.instruction_id else None,
                    "value_at": e.value_at,
                }
            )
        for tender_id, entries in sorted(by_tender.items()):
            self.events.insert(
                0,
                (
                    "deposit.entries_booked",
                    f"trading.tender:{tender_id}",
                    {"tender": tender_id, "source": self.source, "entries": entries},
                ),
            )

    def _instruction_events(self) -> None:
        groups: dict[int | None, list[RefundInstruction]] = defaultdict(list)
        for instruction, _covered in self.new_instructions:
            groups[instruction.tender_id].append(instruction)
        covered_by = {id(i): covered for i, covered in self.new_instructions}
        for tender_id, instructions in groups.items():
            rows = []
            for instruction in instructions:
                row = {
                    "instruction": instruction.reference,
                    "purpose": instruction.purpose,
                    "trigger": instruction.trigger,
                    "legal_source": instruction.legal_source,
                    "principal": instruction.principal,
                    "interest": instruction.interest,
                    "total": instruction.total,
                    "rate": instruction.interest_rate,
                    "basis": instruction.day_count_basis,
                    "interest_until": instruction.interest_until,
                    "due_at": instruction.due_at,
                    "entries": [e.pk for e in covered_by[id(instruction)]],
                }
                if instruction.account_id:
                    row.update(sealed_refs(instruction.account))
                elif instruction.bank_transaction_id:
                    row["txn"] = instruction.bank_transaction.txn_id
                rows.append(row)
            obj = f"trading.tender:{tender_id}" if tender_id else f"trading.refundinstruction:{instructions[0].pk}"
            self.events.append(("deposit.refunds_instructed", obj, {"tender": tender_id, "instructions": rows}))


def refund_rules(account: DepositAccount):
    return deposit_refund_rules(account.tender.procedure_type)


def return_invalid_arrival(ledger: Ledger, account: DepositAccount, entry: DepositEntry, txn_fields: dict) -> None:
    """Instruct the return of an arrival that is no valid deposit, to the account it came from."""
    rule = refund_rules(account).return_invalid
    ledger.instruct(
        account=account,
        purpose=RefundPurpose.RETURN,
        trigger=entry.invalid_reason,
        legal_source=rule.source,
        covered=[entry],
        payee=(txn_fields["counterparty_account"], txn_fields["counterparty_name"], txn_fields["counterparty_bank"]),
        from_account=account.number,
        due_at=rule.after(ledger.now),
    )


def book_arrival(ledger: Ledger, account: DepositAccount, txn: BankTransaction) -> DepositEntry:
    """Book `txn` (an arrival) on `account`; valid or not, and return the invalid ones at once."""
    reason = classify_arrival(account, txn.booked_at, txn.counterparty_account)
    entry = ledger.book(
        account,
        kind=EntryKind.ARRIVAL,
        amount=txn.amount,
        value_at=txn.booked_at,
        valid=not reason,
        invalid_reason=reason,
        bank_transaction=txn,
    )
    if not reason:
        account.valid_total += txn.amount
    elif reason == InvalidReason.INVALID_PAYER:
        account.invalid_payer_total += txn.amount
    elif reason == InvalidReason.LATE:
        account.late_total += txn.amount
    if reason:
        return_invalid_arrival(
            ledger,
            account,
            entry,
            {
                "counterparty_account": txn.counterparty_account,
                "counterparty_name": txn.counterparty_name,
                "counterparty_bank": txn.counterparty_bank,
            },
        )
    return entry


def execute_refund(ledger: Ledger, instruction: RefundInstruction, txn: BankTransaction) -> None:
    """The bank paid `instruction`: book interest and refund on the sub-account (if any)."""
    instruction.status = RefundStatus.EXECUTED
    instruction.executed_at = txn.booked_at
    instruction.executed_txn = txn
    ledger.changed_instructions[instruction.pk] = instruction
    account = instruction.account
    if account is None or instruction.purpose == RefundPurpose.FORFEIT_TRANSFER:
        return  # a suspense return, or a forfeit already booked when it was decided
    if instruction.interest > 0:
        ledger.book(
            account,
            kind=EntryKind.INTEREST,
            amount=instruction.interest,
            value_at=txn.booked_at,
            instruction=instruction,
            bank_transaction=txn,
        )
        account.interest_total += instruction.interest
    ledger.book(
        account,
        kind=EntryKind.REFUND,
        amount=-instruction.total,
        value_at=txn.booked_at,
        instruction=instruction,
        bank_transaction=txn,
        reason=instruction.trigger,
    )
    account.refunded_total += instruction.total
    valid_back = sum((item.entry.amount for item in instruction.items.all() if item.entry.valid), ZERO)
    if valid_back:
        account.valid_total -= valid_back
        if account.valid_total <= 0:
            account.valid_total = ZERO
            account.settled_at = txn.booked_at


def fail_refund(ledger: Ledger, instruction: RefundInstruction, txn: BankTransaction) -> None:
    instruction.status = RefundStatus.FAILED
    instruction.failed_at = txn.booked_at
    instruction.failure_reason = (txn.failure_reason or "failed at the bank")[:300]
    ledger.changed_instructions[instruction.pk] = instruction
    ledger.warnings.append(
        DepositWarning(
            kind=WarningKind.REFUND_FAILED,
            level="red",
            tender_id=instruction.tender_id,
            tender=instruction.tender,
            instruction=instruction,
            message=f"Refund {instruction.reference} failed at the bank: {instruction.failure_reason}"[:300],
            raised_at=ledger.now,
        )
    )
    ledger.event(
        "deposit.refund_failed",
        f"trading.refundinstruction:{instruction.pk}",
        {"tender": instruction.tender_id, "instruction": instruction.reference, "txn": txn.txn_id,
         "failure_reason": instruction.failure_reason},
    )


# --- the entry point ------------------------------------------------------------------------------


def _txn_from(transfer: Transfer, *, source: str, now: datetime) -> BankTransaction:
    return BankTransaction(
        txn_id=transfer.txn_id,
        kind=transfer.kind,
        virtual_account=transfer.virtual_account,
        amount=transfer.amount,
        currency=transfer.currency,
        booked_at=transfer.booked_at,
        counterparty_account=transfer.counterparty_account,
        counterparty_name=transfer.counterparty_name[:200],
        counterparty_bank=transfer.counterparty_bank[:200],
        reference=transfer.reference,
        bank_status=transfer.status,
        failure_reason=transfer.failure_reason[:300],
        source=source,
        notified=source == TransferSource.WEBHOOK,
        in_statement=source == TransferSource.STATEMENT,
        received_at=now,
    )


def _same(txn: BankTransaction, t: Transfer) -> bool:
    return (txn.kind, txn.virtual_account, txn.amount, txn.reference) == (
        t.kind,
        t.virtual_account,
        t.amount,
        t.reference,
    )


def transfers_book(transfers: Sequence[Transfer], *, source: str, actor="system") -> list[BookResult]:
    """Book what the bank reported, in the caller's transaction; one BookResult per transfer, in order."""
    now = clock.now()
    refs = {t.reference for t in transfers if t.kind != ARRIVAL and t.reference}
    instructions = {
        i.reference: i
        for i in RefundInstruction.objects.select_for_update(of=("self",))
        .filter(reference__in=refs)
        .select_related("account", "tender")
        .prefetch_related("items__entry")
        .order_by("pk")
    } if refs else {}
    accounts = lock_accounts(
        numbers=[t.virtual_account for t in transfers if t.kind == ARRIVAL],
        pks=[i.account_id for i in instructions.values() if i.account_id],
    )
    by_number = {a.number: a for a in accounts.values()}
    for instruction in instructions.values():  # share the locked, mutable account objects
        if instruction.account_id:
            instruction.account = accounts[instruction.account_id]
    known = {
        t.txn_id: t
        for t in BankTransaction.objects.filter(txn_id__in={t.txn_id for t in transfers}).only(
            "pk", "txn_id", "kind", "virtual_account", "amount", "reference", "notified", "in_statement", "account"
        )
    }

    ledger = Ledger(now=now, source=source)
    results: list[BookResult] = []
    new_txns: list[BankTransaction] = []
    flag_known: set[int] = set()
    pending: list[tuple[BankTransaction, BookResult, str, object]] = []  # (txn, result, action, target)
    for t in transfers:
        prior = known.get(t.txn_id)
        if prior is not None:
            if not _same(prior, t):
                results.append(BookResult(t.txn_id, CONFLICT, message="the bank reported this txn_id before with "
                                          "other content"))
                continue
            if prior.pk and not (prior.notified if source == TransferSource.WEBHOOK else prior.in_statement):
                flag_known.add(prior.pk)
            account = accounts.get(prior.account_id) if prior.account_id else None
            results.append(BookResult(t.txn_id, DUPLICATE, status=account.status if account else None))
            continue
        txn = _txn_from(t, source=source, now=now)
        known[t.txn_id] = txn
        new_txns.append(txn)
        result = BookResult(t.txn_id, BOOKED)
        results.append(result)
        if t.kind == ARRIVAL:
            account = by_number.get(t.virtual_account)
            if account is None:
                txn.outcome, txn.suspense_reason = TransferOutcome.SUSPENSE, SuspenseReason.UNKNOWN_ACCOUNT
                result.result, result.message = SUSPENSE, "unknown virtual sub-account"
                continue
            txn.account, txn.outcome = account, TransferOutcome.BOOKED
            pending.append((txn, result, "arrival", account))
            continue
        instruction = instructions.get(t.reference)
        problem = None
        if instruction is None:
            problem = SuspenseReason.UNKNOWN_INSTRUCTION, "no such refund instruction"
        elif instruction.from_account != t.virtual_account or (
            t.status != FAILED and instruction.total != t.amount
        ):
            problem = SuspenseReason.AMOUNT_MISMATCH, "the debit does not match the refund instruction"
        elif instruction.status not in OPEN_REFUND_STATUSES:
            problem = SuspenseReason.UNKNOWN_INSTRUCTION, f"the refund instruction is {instruction.status}"
        if problem:
            txn.outcome, txn.suspense_reason = TransferOutcome.SUSPENSE, problem[0]
            result.result, result.message = SUSPENSE, problem[1]
            continue
        txn.account = instruction.account
        if t.status == FAILED:
            txn.outcome, result.result = TransferOutcome.REFUND_FAILED, REFUND_FAILED
            pending.append((txn, result, "refund_failed", instruction))
        else:
            txn.outcome, result.result = TransferOutcome.REFUND_EXECUTED, REFUND_EXECUTED
            pending.append((txn, result, "refund_executed", instruction))
            instruction.status = RefundStatus.EXECUTED  # a second debit for it in this batch → suspense

    if new_txns:
        BankTransaction.objects.bulk_create(new_txns, batch_size=2000)
    if flag_known:
        field_name = "notified" if source == TransferSource.WEBHOOK else "in_statement"
        BankTransaction.objects.filter(pk__in=flag_known).update(**{field_name: True})

    for txn, result, action, target in pending:
        if action == "arrival":
            entry = book_arrival(ledger, target, txn)
            result.valid, result.invalid_reason = entry.valid, entry.invalid_reason
            result.status = target  # resolved after flush
        elif action == "refund_executed":
            execute_refund(ledger, target, txn)
            result.status = target.account
        else:
            fail_refund(ledger, target, txn)
            result.status = target.account
    suspense = [t for t in new_txns if t.outcome == TransferOutcome.SUSPENSE]
    if suspense:
        ledger.event(
            "deposit.suspense_recorded",
            f"trading.banktransaction:{suspense[0].pk}",
            {
                "tender": None,
                "source": source,
                "transactions": [
                    {"txn": t.txn_id, "kind": t.kind, "amount": t.amount, "reason": t.suspense_reason,
                     "booked_at": t.booked_at}
                    for t in suspense
                ],
            },
        )
    ledger.flush(actor=actor)
    for result in results:
        if isinstance(result.status, DepositAccount):
            result.status = str(result.status.status)
    return results
