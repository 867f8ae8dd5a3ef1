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
from typing import NamedTuple

from django.db import connection
from django.db.models import Q

from audit.canonical import format_timestamp
from audit.receipts import receipt_issue
from trading import clock
from trading.deposits import conf
from trading.deposits.bankmsg import ARRIVAL, FAILED, Transfer
from trading.deposits.fastsql import insert_instances, insert_rows
from trading.deposits.interest import compute_interest
from trading.deposits.money import ZERO
from trading.deposits.origins import refund_origin_get
from trading.deposits.sealing import account_hash, deposit_record, sealed_refs
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


@dataclass(slots=True)
class TxnRow:
    """A bank transaction about to be inserted (no model instance: the import's hot path)."""

    txn_id: str
    kind: str
    virtual_account: str
    amount: Decimal
    currency: str
    booked_at: datetime
    counterparty_account: str
    counterparty_name: str
    counterparty_bank: str
    reference: str
    bank_status: str
    failure_reason: str
    source: str
    notified: bool
    in_statement: bool
    received_at: datetime
    account: DepositAccount | None = None
    outcome: str = ""
    suspense_reason: str = ""
    pk: int | None = None


TXN_COLUMNS = ("txn_id", "kind", "virtual_account", "amount", "currency", "booked_at", "counterparty_account",
               "counterparty_name", "counterparty_bank", "reference", "bank_status", "failure_reason", "source",
               "notified", "in_statement", "received_at", "account_id", "outcome", "suspense_reason", "resolution_note")


def _txn_values(t: TxnRow) -> tuple:
    return (t.txn_id, t.kind, t.virtual_account, t.amount, t.currency, t.booked_at, t.counterparty_account,
            t.counterparty_name, t.counterparty_bank, t.reference, t.bank_status, t.failure_reason, t.source,
            t.notified, t.in_statement, t.received_at, t.account.pk if t.account is not None else None, t.outcome,
            t.suspense_reason, "")


@dataclass(slots=True)
class EntryRow:
    """A ledger entry about to be inserted."""

    account: DepositAccount
    seq: int
    kind: str
    amount: Decimal
    balance_after: Decimal
    value_at: datetime
    created_at: datetime
    valid: bool = True
    invalid_reason: str = ""
    bank_transaction_id: int | None = None
    txn_id: str | None = None
    instruction: RefundInstruction | None = None
    reason: str = ""
    note: str = ""
    pk: int | None = None


# The columns of each entry in a "deposit.entries_booked" audit event (docs/deposits.md).
ENTRY_EVENT_COLUMNS = ("entry", "seq", "lot", "account_hash", "kind", "amount", "balance_after", "valid",
                       "invalid_reason", "reason", "txn", "instruction", "value_at")

ENTRY_COLUMNS = ("account_id", "seq", "kind", "amount", "balance_after", "valid", "invalid_reason",
                 "bank_transaction_id", "instruction_id", "reason", "note", "value_at", "created_at")


def _entry_values(e: EntryRow) -> tuple:
    return (e.account.pk, e.seq, e.kind, e.amount, e.balance_after, e.valid, e.invalid_reason,
            e.bank_transaction_id, e.instruction.pk if e.instruction is not None else None, e.reason, e.note,
            e.value_at, e.created_at)


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


def update_account_caches(accounts: Sequence[DepositAccount]) -> None:
    """Write the cached totals of `accounts` (locked by the caller) in one statement.

    Django's bulk_update builds a CASE expression per field and row, which costs
    seconds for a few thousand rows; this is one UPDATE … FROM (VALUES …) on
    PostgreSQL and an executemany on SQLite."""
    fields = [DepositAccount._meta.get_field(name) for name in ACCOUNT_CACHE_FIELDS]
    if connection.vendor == "postgresql":  # the driver adapts Decimal, datetime, int and str itself
        rows = [[getattr(a, name) for name in ACCOUNT_CACHE_FIELDS] + [a.pk] for a in accounts]
        for row in rows:
            row[ACCOUNT_CACHE_FIELDS.index("status")] = str(row[ACCOUNT_CACHE_FIELDS.index("status")])
    else:
        rows = [[f.get_db_prep_save(getattr(a, f.attname), connection) for f in fields] + [a.pk] for a in accounts]
    table = connection.ops.quote_name(DepositAccount._meta.db_table)
    columns = [connection.ops.quote_name(f.column) for f in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            template = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ", %s::bigint)"
            assignments = ", ".join(f"{c} = v.{c}" for c in columns)
            sql = (  # identifiers from the model's own metadata, values as parameters
                f"UPDATE {table} AS t SET {assignments} FROM (VALUES %s) AS v({', '.join(columns)}, id) "  # noqa: S608
                "WHERE t.id = v.id"
            )
            with connection.wrap_database_errors:
                execute_values(cursor.cursor, sql, rows, template=template, page_size=1000)
        else:
            assignments = ", ".join(f"{c} = %s" for c in columns)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)  # noqa: S608


# --- helpers shared with the services -------------------------------------------------------------


def new_reference() -> str:
    """A refund instruction reference: "RF" + 12 random hex digits (unique in the database)."""
    return "RF" + secrets.token_hex(6).upper()


_FRESH_FIELDS = (
    "balance", "valid_total", "invalid_payer_total", "late_total", "interest_total", "refunded_total",
    "forfeited_total", "guarantee_amount", "entry_count", "status", "settled_at", "forfeited_at", "forfeit_reason",
    "refund_trigger", "refund_triggered_at", "refund_deadline", "refund_source", "updated_at",
)


def lock_accounts(
    *, numbers: Iterable[str] = (), pks: Iterable[int] = (), cache: dict[int, DepositAccount] | None = None
) -> dict[int, DepositAccount]:
    """Lock the sub-accounts (FOR UPDATE, in primary-key order) and return them by pk.

    With `cache` (the statement import keeps one across its chunks) the tender, lot, bidder
    and registration objects are loaded once; every call re-reads the mutable columns and the
    registration's status under the lock, so what is booked always starts from the current balance."""
    numbers, pks = list(set(numbers)), list(set(pks))
    if not numbers and not pks:
        return {}
    locked = (
        DepositAccount.objects.select_for_update(of=("self",))
        .filter(Q(number__in=numbers) | Q(pk__in=pks))
        .order_by("pk")
    )
    related = ("tender", "lot", "bidder", "registration")
    if cache is None:
        return {a.pk: a for a in locked.select_related(*related)}
    rows = list(locked.values_list("pk", *_FRESH_FIELDS, "registration__status"))
    missing = [r[0] for r in rows if r[0] not in cache]
    if missing:
        cache.update({a.pk: a for a in DepositAccount.objects.filter(pk__in=missing).select_related(*related)})
    out = {}
    for row in rows:
        account = cache[row[0]]
        for name, value in zip(_FRESH_FIELDS, row[1:-1], strict=True):
            setattr(account, name, value)
        account.registration.status = row[-1]
        out[row[0]] = account
    return out


def classify_arrival(account: DepositAccount, transfer_booked_at: datetime, payer_account: str) -> str:
    """"" for a valid deposit, or the InvalidReason of one that is not."""
    bidder = account.bidder
    basic = getattr(bidder, "_normalized_basic_account", None)
    if basic is None:
        basic = bidder._normalized_basic_account = normalize_account_number(bidder.basic_account_number)
    if not basic or (payer_account != basic and normalize_account_number(payer_account) != basic):
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
        self.entries: list[EntryRow] = []
        self.touched: dict[int, DepositAccount] = {}
        # (instruction, [entries it covers]) to create after the entries exist.
        self.new_instructions: list[tuple[RefundInstruction, list[DepositEntry]]] = []
        self.changed_instructions: dict[int, RefundInstruction] = {}
        self.warnings: list[DepositWarning] = []
        self.events: list[tuple[str, str, dict]] = []
        # Executed instructions of a registered origin (trading/deposits/origins.py): their handlers
        # run after everything else is written.
        self.origin_executed: list[tuple[RefundInstruction, str]] = []
        self._rate: Decimal | None = None
        self._basis = 360
        self._return_due: dict[str, tuple[str, datetime]] = {}

    def return_due(self, procedure_type: str) -> tuple[str, datetime]:
        """(legal source, due time) of returning a payment that is no valid deposit, from now."""
        if procedure_type not in self._return_due:
            rule = deposit_refund_rules(procedure_type).return_invalid
            self._return_due[procedure_type] = (rule.source, rule.after(self.now))
        return self._return_due[procedure_type]

    def book(
        self, account: DepositAccount, *, kind: str, amount: Decimal, value_at: datetime, bank_transaction=None,
        **fields,
    ) -> EntryRow:
        account.entry_count += 1
        account.balance += amount
        entry = EntryRow(
            account=account,
            seq=account.entry_count,
            kind=kind,
            amount=amount,
            balance_after=account.balance,
            value_at=value_at,
            created_at=self.now,
            bank_transaction_id=bank_transaction.pk if bank_transaction is not None else None,
            txn_id=bank_transaction.txn_id if bank_transaction is not None else None,
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
        origin: str = "",
        origin_ref: str = "",
    ) -> RefundInstruction:
        """A refund instruction paying back `covered` arrivals (or `principal`) with interest to today."""
        if principal is None:
            principal = sum((e.amount for e in covered), ZERO)
            value_dates = [(e.amount, e.value_at) for e in covered]
        if self._rate is None:
            self._rate, self._basis = conf.interest_rate(), conf.day_count_basis()
        rate, basis = self._rate, self._basis
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
            origin=origin,
            origin_ref=origin_ref,
        )
        self.new_instructions.append((instruction, list(covered)))
        return instruction

    def event(self, action: str, obj: str, data: dict) -> None:
        self.events.append((action, obj, data))

    def flush(self, *, actor="system") -> None:
        """Write everything collected, in bulk, then the audit events."""
        if self.entries:
            ids = insert_rows(DepositEntry, ENTRY_COLUMNS, [_entry_values(e) for e in self.entries])
            for entry, pk in zip(self.entries, ids, strict=True):
                entry.pk = pk
        if self.new_instructions:
            instructions = [i for i, _ in self.new_instructions]
            for i in instructions:  # FK ids from the related objects (set before they had ids, some of them)
                i.account_id = i.account.pk if i.account is not None else None
                i.tender_id = i.tender.pk if i.tender is not None else None
                i.bank_transaction_id = i.bank_transaction.pk if i.bank_transaction is not None else None
            insert_instances(RefundInstruction, instructions, now=self.now)
            items = [(i.pk, e.pk) for i, covered in self.new_instructions for e in covered]
            insert_rows(RefundItem, ("instruction_id", "entry_id"), items, returning=False)
            insert_rows(
                ScheduledStep,
                ("kind", "subject", "tender_id", "lot_id", "due_at", "attempts", "result", "last_error",
                 "created_at", "updated_at"),
                [
                    (REFUND_OVERDUE, f"trading.refundinstruction:{i.pk}", i.tender_id,
                     i.account.lot_id if i.account is not None else None, i.due_at, 0, "", "", self.now, self.now)
                    for i in instructions
                ],
                returning=False,
            )
        if self.changed_instructions:
            RefundInstruction.objects.bulk_update(
                list(self.changed_instructions.values()),
                ["status", "executed_at", "executed_txn_id", "failed_at", "failure_reason"],
                batch_size=1000,
            )
        if self.touched:
            for account in self.touched.values():
                refresh_status(account)
                account.updated_at = self.now
            update_account_caches(list(self.touched.values()))
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
            event = deposit_record(actor=actor, action=action, obj=obj, data=data)
            if action == "deposit.entries_booked":
                self._entry_receipts(event, data["tender"])
        for instruction, txn_id in self.origin_executed:
            refund_origin_get(instruction.origin).executed(instruction, txn_id=txn_id)
        self.origin_executed = []

    def _entry_receipts(self, event, tender_id: int) -> None:
        """One signed receipt per sub-account booked in `event` (its "deposit.entries_booked" event,
        or the sealed commitment to it before the deadline), held by the account's bidder
        organisation (docs/deposits.md, "Booking receipts")."""
        by_account: dict[int, list[EntryRow]] = defaultdict(list)
        for e in self.entries:
            if e.account.tender_id == tender_id:
                by_account[e.account.pk].append(e)
        for rows in by_account.values():
            account = rows[0].account
            receipt_issue(event=event, holder_org=account.bidder, payload=booking_receipt_payload(account, rows))

    def _entry_events(self) -> None:
        """One "deposit.entries_booked" event per tender listing every entry as "|"-separated
        ENTRY_EVENT_COLUMNS (valid: "1"/"0"; empty string for none)."""
        by_tender: dict[int, list[str]] = defaultdict(list)
        hashes: dict[int, str] = {}
        for e in self.entries:
            account = e.account
            if account.pk not in hashes:
                hashes[account.pk] = account_hash(account)
            by_tender[account.tender_id].append(
                "|".join(  # one string per entry: cheap to log, easy to split (no field can hold "|")
                    (
                        str(e.pk),
                        str(e.seq),
                        str(account.lot_id),
                        hashes[account.pk],
                        e.kind,
                        format(e.amount, "f"),
                        format(e.balance_after, "f"),
                        "1" if e.valid else "0",
                        e.invalid_reason,
                        e.reason,
                        e.txn_id or "",
                        e.instruction.reference if e.instruction is not None else "",
                        format_timestamp(e.value_at),
                    )
                )
            )
        for tender_id, rows in sorted(by_tender.items()):
            self.events.insert(
                0,
                (
                    "deposit.entries_booked",
                    f"trading.tender:{tender_id}",
                    {"tender": tender_id, "source": self.source, "columns": list(ENTRY_EVENT_COLUMNS),
                     "entries": rows},
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
                if instruction.origin:
                    row.update(origin=instruction.origin, origin_ref=instruction.origin_ref)
                rows.append(row)
            obj = f"trading.tender:{tender_id}" if tender_id else f"trading.refundinstruction:{instructions[0].pk}"
            self.events.append(("deposit.refunds_instructed", obj, {"tender": tender_id, "instructions": rows}))


def booking_receipt_payload(account: DepositAccount, entries: Sequence[EntryRow]) -> dict:
    """The fields of a deposit booking receipt (docs/deposits.md, "Booking receipts"); ids as
    decimal strings, amounts as plain decimal strings. `receipt_issue` adds receipt_id,
    audit_origin, audit_seq and audit_leaf_hash."""
    return {
        "receipt_type": "deposit.entries_booked",
        "tender": str(account.tender_id),
        "lot": str(account.lot_id),
        "bidder": str(account.bidder_id),
        "deposit_account": account.number,
        "entries": [
            {
                "entry": str(e.pk),
                "seq": e.seq,
                "kind": e.kind,
                "amount": format(e.amount, "f"),
                "balance_after": format(e.balance_after, "f"),
                "valid": e.valid,
                "invalid_reason": e.invalid_reason,
                "txn": e.txn_id or "",
                "value_at": format_timestamp(e.value_at),
            }
            for e in entries
        ],
    }


def return_invalid_arrival(ledger: Ledger, account: DepositAccount, entry: EntryRow, txn_fields: dict) -> None:
    """Instruct the return of an arrival that is no valid deposit, to the account it came from."""
    source, due_at = ledger.return_due(account.tender.procedure_type)
    ledger.instruct(
        account=account,
        purpose=RefundPurpose.RETURN,
        trigger=entry.invalid_reason,
        legal_source=source,
        covered=[entry],
        payee=(txn_fields["counterparty_account"], txn_fields["counterparty_name"], txn_fields["counterparty_bank"]),
        from_account=account.number,
        due_at=due_at,
    )


def book_arrival(ledger: Ledger, account: DepositAccount, txn) -> EntryRow:
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


def execute_refund(ledger: Ledger, instruction: RefundInstruction, txn: TxnRow) -> None:
    """The bank paid `instruction`: book interest and refund on the sub-account (if any)."""
    instruction.status = RefundStatus.EXECUTED
    instruction.executed_at = txn.booked_at
    instruction.executed_txn_id = txn.pk
    ledger.changed_instructions[instruction.pk] = instruction
    account = instruction.account
    if instruction.origin:
        # Another app's deposit (no sub-account of ours): recorded here, applied by its handler.
        ledger.origin_executed.append((instruction, txn.txn_id))
        ledger.event("deposit.refund_executed", f"trading.refundinstruction:{instruction.pk}", {
            "tender": None, "instruction": instruction.reference, "origin": instruction.origin,
            "origin_ref": instruction.origin_ref, "total": instruction.total, "txn": txn.txn_id,
            "executed_at": txn.booked_at})
        return
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


def fail_refund(ledger: Ledger, instruction: RefundInstruction, txn: TxnRow) -> None:
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


class KnownTxn(NamedTuple):
    """A bank transaction already booked (or new earlier in the same batch), as idempotency compares it."""

    pk: int | None
    kind: str
    virtual_account: str
    amount: Decimal
    reference: str
    notified: bool
    in_statement: bool
    account_id: int | None

    def same_movement(self, t: Transfer) -> bool:
        """True if `t` reports the same movement (same kind, sub-account, amount and reference)."""
        return (self.kind, self.virtual_account, self.amount, self.reference) == (
            t.kind, t.virtual_account, t.amount, t.reference)

    @classmethod
    def of_new(cls, row: TxnRow) -> KnownTxn:
        """A transaction new earlier in this batch (classified, not inserted yet): it counts as seen by
        both reporting paths."""
        return cls(None, row.kind, row.virtual_account, row.amount, row.reference, True, True,
                   row.account.pk if row.account is not None else None)


_KNOWN_COLUMNS = ("txn_id", "id", "kind", "virtual_account", "amount", "reference", "notified", "in_statement",
                  "account_id")


def _known_txns(txn_ids: set[str]) -> dict[str, KnownTxn]:
    """The transactions already booked among `txn_ids`, by txn id (one query; an array parameter on
    PostgreSQL, which a statement chunk of 20,000 ids needs: an IN list that long costs more to build
    than to run)."""
    if not txn_ids:
        return {}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(BankTransaction._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_KNOWN_COLUMNS)} FROM {table} WHERE txn_id = ANY(%s)",  # noqa: S608
                [list(txn_ids)],
            )
            rows = cursor.fetchall()
    else:
        rows = BankTransaction.objects.filter(txn_id__in=txn_ids).values_list(*_KNOWN_COLUMNS)
    return {row[0]: KnownTxn(*row[1:]) for row in rows}


def _txn_from(transfer: Transfer, *, source: str, now: datetime) -> TxnRow:
    return TxnRow(
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


@dataclass
class _Pending:
    """A new transaction whose ledger effect is booked once every new transaction has its pk."""

    txn: TxnRow
    result: BookResult
    action: str  # "arrival" | "refund_executed" | "refund_failed"
    target: DepositAccount | RefundInstruction


@dataclass
class _Batch:
    """What `transfers_book` locked and learnt about a batch before booking it."""

    instructions: dict[str, RefundInstruction]
    accounts: dict[int, DepositAccount]
    by_number: dict[str, DepositAccount]
    known: dict[str, KnownTxn]


def _batch_lock(transfers: Sequence[Transfer], cache: dict[int, DepositAccount] | None) -> _Batch:
    """Lock the refund instructions the debits name and every sub-account involved (instructions first),
    and read which txn ids are known already."""
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
        cache=cache,
    )
    for instruction in instructions.values():  # share the locked, mutable account objects
        if instruction.account_id:
            instruction.account = accounts[instruction.account_id]
    return _Batch(instructions=instructions, accounts=accounts, by_number={a.number: a for a in accounts.values()},
                  known=_known_txns({t.txn_id for t in transfers}))


def _seen_again(batch: _Batch, prior: KnownTxn, t: Transfer, *, source: str, flag_known: set[int]) -> BookResult:
    """A txn id reported before: a duplicate (flag that this path has now seen it too) or a conflict."""
    if not prior.same_movement(t):
        return BookResult(t.txn_id, CONFLICT, message="the bank reported this txn_id before with other content")
    seen = prior.notified if source == TransferSource.WEBHOOK else prior.in_statement
    if prior.pk and not seen:
        flag_known.add(prior.pk)
    account = batch.accounts.get(prior.account_id) if prior.account_id else None
    return BookResult(t.txn_id, DUPLICATE, status=account.status if account else None)


def _suspend(txn: TxnRow, result: BookResult, reason: str, message: str) -> None:
    txn.outcome, txn.suspense_reason = TransferOutcome.SUSPENSE, reason
    result.result, result.message = SUSPENSE, message


def _classify_arrival(batch: _Batch, txn: TxnRow, result: BookResult) -> _Pending | None:
    account = batch.by_number.get(txn.virtual_account)
    if account is None:
        _suspend(txn, result, SuspenseReason.UNKNOWN_ACCOUNT, "unknown virtual sub-account")
        return None
    txn.account, txn.outcome = account, TransferOutcome.BOOKED
    return _Pending(txn, result, "arrival", account)


def _classify_debit(batch: _Batch, t: Transfer, txn: TxnRow, result: BookResult) -> _Pending | None:
    """A debit executes (or reports the failure of) an open refund instruction; anything else is suspense."""
    instruction = batch.instructions.get(t.reference)
    if instruction is None:
        _suspend(txn, result, SuspenseReason.UNKNOWN_INSTRUCTION, "no such refund instruction")
        return None
    if instruction.from_account != t.virtual_account or (t.status != FAILED and instruction.total != t.amount):
        _suspend(txn, result, SuspenseReason.AMOUNT_MISMATCH, "the debit does not match the refund instruction")
        return None
    if instruction.status not in OPEN_REFUND_STATUSES:
        _suspend(txn, result, SuspenseReason.UNKNOWN_INSTRUCTION, f"the refund instruction is {instruction.status}")
        return None
    txn.account = instruction.account
    if t.status == FAILED:
        txn.outcome, result.result = TransferOutcome.REFUND_FAILED, REFUND_FAILED
        return _Pending(txn, result, "refund_failed", instruction)
    txn.outcome, result.result = TransferOutcome.REFUND_EXECUTED, REFUND_EXECUTED
    instruction.status = RefundStatus.EXECUTED  # a second debit for it in this batch → suspense
    return _Pending(txn, result, "refund_executed", instruction)


def _insert_txns(new_txns: list[TxnRow], flag_known: set[int], *, source: str) -> None:
    """Insert the new transactions (setting their pks) and flag the known ones this path saw again."""
    if new_txns:
        ids = insert_rows(BankTransaction, TXN_COLUMNS, [_txn_values(t) for t in new_txns])
        for txn, pk in zip(new_txns, ids, strict=True):
            txn.pk = pk
    if flag_known:
        field_name = "notified" if source == TransferSource.WEBHOOK else "in_statement"
        BankTransaction.objects.filter(pk__in=flag_known).update(**{field_name: True})


def _book_pending(ledger: Ledger, pending: list[_Pending]) -> None:
    for p in pending:
        if p.action == "arrival":
            entry = book_arrival(ledger, p.target, p.txn)
            p.result.valid, p.result.invalid_reason = entry.valid, entry.invalid_reason
            p.result.status = p.target  # resolved after flush
        elif p.action == "refund_executed":
            execute_refund(ledger, p.target, p.txn)
            p.result.status = p.target.account
        else:
            fail_refund(ledger, p.target, p.txn)
            p.result.status = p.target.account


def _record_suspense(ledger: Ledger, new_txns: list[TxnRow], *, source: str) -> None:
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


def transfers_book(
    transfers: Sequence[Transfer], *, source: str, actor="system", cache: dict[int, DepositAccount] | None = None
) -> list[BookResult]:
    """Book what the bank reported, in the caller's transaction; one BookResult per transfer, in order."""
    now = clock.now()
    batch = _batch_lock(transfers, cache)
    ledger = Ledger(now=now, source=source)
    results: list[BookResult] = []
    new_txns: list[TxnRow] = []
    flag_known: set[int] = set()
    pending: list[_Pending] = []
    new_by_id: dict[str, TxnRow] = {}
    for t in transfers:
        prior = batch.known.get(t.txn_id)
        if prior is None and t.txn_id in new_by_id:  # twice in this batch
            prior = KnownTxn.of_new(new_by_id[t.txn_id])
        if prior is not None:
            results.append(_seen_again(batch, prior, t, source=source, flag_known=flag_known))
            continue
        txn = _txn_from(t, source=source, now=now)
        new_by_id[t.txn_id] = txn
        new_txns.append(txn)
        result = BookResult(t.txn_id, BOOKED)
        results.append(result)
        step = _classify_arrival(batch, txn, result) if t.kind == ARRIVAL else _classify_debit(batch, t, txn, result)
        if step is not None:
            pending.append(step)
    _insert_txns(new_txns, flag_known, source=source)
    _book_pending(ledger, pending)
    _record_suspense(ledger, new_txns, source=source)
    ledger.flush(actor=actor)
    for result in results:
        if isinstance(result.status, DepositAccount):
            result.status = str(result.status.status)
    return results
