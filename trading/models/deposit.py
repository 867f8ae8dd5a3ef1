"""Bid deposits (投标保证金): virtual sub-accounts, the bank's transactions, the ledger, refunds.

- `DepositAccount`: one virtual sub-account per registration (bidder, lot), with its
  cached balance and totals (updated under `select_for_update`) and its status.
- `BankTransaction`: every movement the bank reported (by notification or statement),
  unique on the bank's transaction id: the idempotency key of both paths. Unknown
  sub-accounts stay here as the suspense list (`outcome="suspense"`).
- `DepositEntry`: the ledger. Immutable (append-only in the database, migration
  trading/0003 installs the triggers); the balance of a sub-account is the sum of its entries.
- `RefundInstruction` (+ `RefundItem`, which arrivals it pays back): what the bank is told
  to pay, with interest; executed when the bank confirms it.
- `DepositWarning`: overdue or failed refunds, shown to supervisors.
- `GuaranteeIssuer`, `GuaranteeLetter`: electronic guarantee letters (电子保函) and the
  issuer keys the platform trusts.
- `BankMessage`: the digests of accepted signed bank messages (replay protection).
- `StatementImport`, `StatementLine`: imported daily statements, for reconciliation.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from trading.models.notice import ImmutableError

ZERO = Decimal("0.00")


def _money(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, default=ZERO, **kwargs)


class DepositStatus(models.TextChoices):
    NONE = "none", _("Not paid")
    INSUFFICIENT = "insufficient", _("Insufficient")
    PAID = "paid", _("Paid (valid)")
    INVALID_PAYER = "invalid_payer", _("Not valid: not from the basic account")
    LATE = "late", _("Not valid: arrived after the deadline")
    GUARANTEED = "guaranteed", _("Guarantee letter")
    REFUNDED = "refunded", _("Refunded")
    FORFEITED = "forfeited", _("Forfeited")


class DepositAccount(models.Model):
    """The virtual sub-account of one registration (bidder, lot)."""

    # The id used in URLs and the API: random (UUID 4), so that it discloses neither how many
    # sub-accounts the platform holds nor when (docs/tendering.md, "Public identifiers"). The integer
    # primary key stays internal (foreign keys, audit objects).
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    registration = models.OneToOneField(
        "trading.Registration", on_delete=models.PROTECT, related_name="deposit_account"
    )
    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="deposit_accounts")
    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="deposit_accounts")
    bidder = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="deposit_accounts")
    number = models.CharField(_("virtual sub-account"), max_length=32, unique=True)
    # Cached from the ledger (sum of entries); written only under select_for_update.
    balance = _money(_("balance"))
    valid_total = _money(_("valid arrivals"))
    invalid_payer_total = _money(_("arrivals from other accounts"))
    late_total = _money(_("late arrivals"))
    interest_total = _money(_("interest"))
    refunded_total = _money(_("refunded"))
    forfeited_total = _money(_("forfeited"))
    guarantee_amount = _money(_("guarantee amount"))
    entry_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        _("deposit status"), max_length=20, choices=DepositStatus.choices, default=DepositStatus.NONE, db_index=True
    )
    # The refund the legal schedule asks for (set by the refund scheduling services).
    refund_trigger = models.CharField(max_length=30, blank=True)
    refund_triggered_at = models.DateTimeField(null=True, blank=True)
    refund_deadline = models.DateTimeField(null=True, blank=True)
    refund_source = models.CharField(max_length=120, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    forfeited_at = models.DateTimeField(null=True, blank=True)
    forfeit_reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["tender_id", "lot_id", "pk"]
        verbose_name = _("deposit sub-account")
        verbose_name_plural = _("deposit sub-accounts")

    def __str__(self) -> str:
        return self.number


class TransferKind(models.TextChoices):
    ARRIVAL = "arrival", _("Arrival (credit)")
    REFUND = "refund", _("Refund or payout (debit)")


class TransferSource(models.TextChoices):
    WEBHOOK = "webhook", _("Bank notification")
    STATEMENT = "statement", _("Statement import")


class TransferOutcome(models.TextChoices):
    BOOKED = "booked", _("Booked")
    SUSPENSE = "suspense", _("Suspense")
    REFUND_EXECUTED = "refund_executed", _("Refund executed")
    REFUND_FAILED = "refund_failed", _("Refund failed")
    RETURNED = "returned", _("Returned to the payer")
    ASSIGNED = "assigned", _("Assigned to a sub-account")


class SuspenseReason(models.TextChoices):
    UNKNOWN_ACCOUNT = "unknown_account", _("Unknown virtual sub-account")
    UNKNOWN_INSTRUCTION = "unknown_instruction", _("No such refund instruction")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount differs from the instruction")


class BankTransaction(models.Model):
    """One movement reported by the bank; `txn_id` makes both reporting paths idempotent."""

    txn_id = models.CharField(_("bank transaction id"), max_length=64)
    kind = models.CharField(max_length=10, choices=TransferKind.choices)
    virtual_account = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    booked_at = models.DateTimeField(_("booked at the bank"), db_index=True)
    counterparty_account = models.CharField(max_length=40, blank=True)
    counterparty_name = models.CharField(max_length=200, blank=True)
    counterparty_bank = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=40, blank=True)
    bank_status = models.CharField(max_length=10, default="executed")
    failure_reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=10, choices=TransferSource.choices)
    notified = models.BooleanField(default=False)  # reported by a notification
    in_statement = models.BooleanField(default=False)  # seen on an imported statement
    received_at = models.DateTimeField()
    account = models.ForeignKey(
        DepositAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="bank_transactions"
    )
    outcome = models.CharField(max_length=20, choices=TransferOutcome.choices)
    suspense_reason = models.CharField(max_length=30, choices=SuspenseReason.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-booked_at", "-pk"]
        # Few indexes: the statement import inserts a row per line (no varchar_pattern_ops "_like" copies).
        constraints = [models.UniqueConstraint(fields=["txn_id"], name="unique_bank_txn_id")]
        indexes = [models.Index(fields=["outcome", "resolved_at"], name="bank_txn_suspense")]

    def __str__(self) -> str:
        return f"{self.txn_id} {self.kind} {self.amount}"

    @property
    def in_suspense(self) -> bool:
        return self.outcome == TransferOutcome.SUSPENSE and self.resolved_at is None


class EntryKind(models.TextChoices):
    ARRIVAL = "arrival", _("Arrival")
    REFUND = "refund", _("Refund")
    FORFEIT = "forfeit", _("Forfeit")
    INTEREST = "interest", _("Interest")


class InvalidReason(models.TextChoices):
    INVALID_PAYER = "invalid_payer", _("Not paid from the bidder's basic account")
    LATE = "late", _("Arrived after the bid deadline")
    WITHDRAWN = "withdrawn", _("The registration was withdrawn")


class ForfeitReason(models.TextChoices):
    BID_REVOKED = "bid_revoked", _("Bid revoked: decryption failed by the bidder's fault")
    WINNER_REFUSED = "winner_refused_contract", _("The winner refused to sign the contract")


class DepositEntry(models.Model):
    """An immutable ledger entry. `amount` is signed: arrival and interest +, refund and forfeit −."""

    # Indexed by the unique (account, seq) constraint.
    account = models.ForeignKey(DepositAccount, on_delete=models.PROTECT, related_name="entries", db_index=False)
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    balance_after = models.DecimalField(max_digits=18, decimal_places=2)
    valid = models.BooleanField(default=True)
    invalid_reason = models.CharField(max_length=20, choices=InvalidReason.choices, blank=True)
    bank_transaction = models.ForeignKey(
        BankTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    instruction = models.ForeignKey(
        "trading.RefundInstruction", null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    reason = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)
    value_at = models.DateTimeField()  # when the money moved at the bank (or the decision, for a forfeit)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["account_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["account", "seq"], name="unique_deposit_entry_seq")]
        verbose_name = _("deposit ledger entry")
        verbose_name_plural = _("deposit ledger entries")

    def __str__(self) -> str:
        return f"{self.account_id}#{self.seq} {self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("deposit ledger entries are immutable; book a new entry instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("deposit ledger entries are immutable")


class RefundPurpose(models.TextChoices):
    REFUND = "refund", _("Deposit refund with interest")
    RETURN = "return", _("Return of a payment that is not a valid deposit")
    SUSPENSE_RETURN = "suspense_return", _("Return of an unidentified payment")
    FORFEIT_TRANSFER = "forfeit_transfer", _("Transfer of a forfeited deposit to the tenderer")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    EXPORTED = "exported", _("Sent to the bank")
    EXECUTED = "executed", _("Executed")
    FAILED = "failed", _("Failed")
    SUPERSEDED = "superseded", _("Superseded")


OPEN_REFUND_STATUSES = (RefundStatus.PENDING, RefundStatus.EXPORTED)


class RefundInstruction(models.Model):
    """A payment the bank is asked to make from a virtual sub-account."""

    reference = models.CharField(max_length=20, unique=True)
    purpose = models.CharField(max_length=20, choices=RefundPurpose.choices)
    trigger = models.CharField(max_length=30)
    legal_source = models.CharField(max_length=120, blank=True)
    account = models.ForeignKey(
        DepositAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_instructions"
    )
    bank_transaction = models.ForeignKey(
        BankTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_instructions"
    )
    tender = models.ForeignKey(
        "trading.Tender", null=True, blank=True, on_delete=models.PROTECT, related_name="refund_instructions"
    )
    from_account = models.CharField(max_length=40)
    payee_account = models.CharField(max_length=40)
    payee_name = models.CharField(max_length=200, blank=True)
    payee_bank = models.CharField(max_length=200, blank=True)
    principal = models.DecimalField(max_digits=18, decimal_places=2)
    interest = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    total = models.DecimalField(max_digits=18, decimal_places=2)
    interest_rate = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal(0))
    day_count_basis = models.PositiveSmallIntegerField(default=360)
    interest_until = models.DateField(null=True, blank=True)
    balance_days = models.DecimalField(max_digits=24, decimal_places=2, default=ZERO)
    due_at = models.DateTimeField(_("refund due by"))
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING, db_index=True)
    created_at = models.DateTimeField()
    exported_at = models.DateTimeField(null=True, blank=True)
    export_count = models.PositiveIntegerField(default=0)
    executed_at = models.DateTimeField(null=True, blank=True)
    executed_txn = models.ForeignKey(
        BankTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    overdue_warned_at = models.DateTimeField(null=True, blank=True)
    # A deposit held by another app (trading/deposits/origins.py): the registered origin's key, e.g.
    # "auctions.buyer", and the id of the object holding the deposit. "" for the deposits' own
    # instructions (a tender sub-account, a suspense return), which keep `account`/`bank_transaction`.
    origin = models.CharField(max_length=40, blank=True, default="")
    origin_ref = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("refund instruction")
        verbose_name_plural = _("refund instructions")
        indexes = [models.Index(fields=["origin", "origin_ref"], condition=~models.Q(origin=""),
                                name="refund_instruction_origin")]

    def __str__(self) -> str:
        return f"{self.reference} {self.total}"


class RefundItem(models.Model):
    """Which arrival an instruction pays back (or transfers, for a forfeit): each arrival once."""

    instruction = models.ForeignKey(RefundInstruction, on_delete=models.PROTECT, related_name="items")
    entry = models.OneToOneField(DepositEntry, on_delete=models.PROTECT, related_name="refund_item")

    def __str__(self) -> str:
        return f"{self.instruction_id}:{self.entry_id}"


class WarningKind(models.TextChoices):
    REFUND_OVERDUE = "refund_overdue", _("Refund overdue")
    REFUND_FAILED = "refund_failed", _("Refund failed at the bank")


class DepositWarning(models.Model):
    """A red/yellow warning for supervisors (电子监察)."""

    kind = models.CharField(max_length=20, choices=WarningKind.choices)
    level = models.CharField(max_length=10, default="red")
    tender = models.ForeignKey("trading.Tender", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    instruction = models.ForeignKey(RefundInstruction, on_delete=models.PROTECT, related_name="warnings")
    message = models.CharField(max_length=300)
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "instruction"], name="unique_deposit_warning_per_instruction")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.instruction_id}"


class GuaranteeIssuer(models.Model):
    """An insurer or bank whose signing key the platform trusts for guarantee letters."""

    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(_("unified social credit code"), max_length=18)
    key_id = models.CharField(max_length=64, unique=True)
    alg = models.CharField(max_length=10)
    public_key = models.TextField(_("public key (SPKI DER, base64)"))
    added_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id[:12]}…)"


class GuaranteeLetter(models.Model):
    """An accepted electronic guarantee letter (电子保函) standing in for the cash deposit."""

    account = models.ForeignKey(DepositAccount, on_delete=models.PROTECT, related_name="guarantees")
    issuer = models.ForeignKey(GuaranteeIssuer, on_delete=models.PROTECT, related_name="letters")
    letter_no = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64, unique=True)
    document = models.JSONField()  # the signed letter as uploaded
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    accepted_at = models.DateTimeField()

    class Meta:
        ordering = ["-accepted_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["issuer", "letter_no"], name="unique_guarantee_letter_no")]

    def __str__(self) -> str:
        return f"{self.letter_no} {self.amount}"


class BankMessage(models.Model):
    """The digest of each accepted signed bank message: the same signed payload twice is a replay."""

    digest = models.CharField(max_length=64, unique=True)
    signed_at = models.DateTimeField()
    received_at = models.DateTimeField()
    txn_id = models.CharField(max_length=64, blank=True)
    result = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.digest[:12]} {self.result}"


class StatementImport(models.Model):
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    line_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    booked_count = models.PositiveIntegerField(default=0)
    known_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    imported_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField()
    source = models.CharField(max_length=10, default="upload")

    class Meta:
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return f"statement {self.pk} {self.file_name}"


class StatementLine(models.Model):
    # Indexed by the unique (statement, line_no) constraint; no database constraint: lines are only
    # ever written with their statement, and 100,000 deferred checks would slow the commit down.
    statement = models.ForeignKey(
        StatementImport, on_delete=models.CASCADE, related_name="lines", db_index=False, db_constraint=False
    )
    line_no = models.PositiveIntegerField()
    txn_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=TransferKind.choices)
    virtual_account = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    booked_at = models.DateTimeField()
    counterparty_account = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["statement_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "line_no"], name="unique_statement_line_no"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.line_no} {self.txn_id}"


__all__ = [
    "OPEN_REFUND_STATUSES",
    "BankMessage",
    "BankTransaction",
    "DepositAccount",
    "DepositEntry",
    "DepositStatus",
    "DepositWarning",
    "EntryKind",
    "ForfeitReason",
    "GuaranteeIssuer",
    "GuaranteeLetter",
    "InvalidReason",
    "RefundInstruction",
    "RefundItem",
    "RefundPurpose",
    "RefundStatus",
    "StatementImport",
    "StatementLine",
    "SuspenseReason",
    "TransferKind",
    "TransferOutcome",
    "TransferSource",
    "WarningKind",
]
