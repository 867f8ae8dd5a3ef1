"""Input and output serializers of the deposits API. Money is a decimal string (SPECS.md §3)."""

from __future__ import annotations

from rest_framework import serializers

MONEY = {"max_digits": 18, "decimal_places": 2}

PUBLIC_ID_HELP = "Random public id (UUID 4), used in URLs: it discloses no count (docs/tendering.md)."


class BookResultOutput(serializers.Serializer):
    txn_id = serializers.CharField()
    result = serializers.ChoiceField(
        choices=["booked", "duplicate", "suspense", "refund_executed", "refund_failed"],
        help_text="booked: a ledger entry; duplicate: this txn_id was booked before (nothing changed); "
        "suspense: unknown sub-account or instruction; refund_executed / refund_failed: a refund confirmation.",
    )
    status = serializers.CharField(allow_null=True, help_text="The sub-account's deposit status afterwards.")
    valid = serializers.BooleanField(allow_null=True)
    invalid_reason = serializers.CharField(allow_blank=True)


class AccountOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", help_text=PUBLIC_ID_HELP)
    number = serializers.CharField(help_text="The virtual sub-account (Luhn check digit last).")
    registration = serializers.UUIDField(source="registration.public_id", help_text="The registration's public id.")
    tender = serializers.IntegerField(source="tender_id")
    tender_code = serializers.CharField(source="tender.code")
    lot = serializers.IntegerField(source="lot_id")
    lot_number = serializers.IntegerField(source="lot.number")
    bidder = serializers.CharField(source="bidder.name")
    required = serializers.DecimalField(source="lot.deposit_amount", **MONEY)
    status = serializers.CharField()
    balance = serializers.DecimalField(**MONEY)
    valid_total = serializers.DecimalField(**MONEY)
    guarantee_amount = serializers.DecimalField(**MONEY)
    interest_total = serializers.DecimalField(**MONEY)
    refunded_total = serializers.DecimalField(**MONEY)
    forfeited_total = serializers.DecimalField(**MONEY)
    refund_deadline = serializers.DateTimeField(allow_null=True)
    forfeit_reason = serializers.CharField(allow_blank=True)


class EntryOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    balance_after = serializers.DecimalField(**MONEY)
    valid = serializers.BooleanField()
    invalid_reason = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    txn_id = serializers.SerializerMethodField()
    instruction = serializers.SerializerMethodField()
    value_at = serializers.DateTimeField()

    def get_txn_id(self, entry) -> str | None:
        return entry.bank_transaction.txn_id if entry.bank_transaction_id else None

    def get_instruction(self, entry) -> str | None:
        return entry.instruction.reference if entry.instruction_id else None


class InstructionOutput(serializers.Serializer):
    reference = serializers.CharField()
    purpose = serializers.CharField()
    trigger = serializers.CharField()
    legal_source = serializers.CharField()
    status = serializers.CharField()
    tender = serializers.IntegerField(source="tender_id", allow_null=True)
    origin = serializers.CharField(
        allow_blank=True, help_text='"" for a tender deposit or a suspense return; else the app holding the deposit '
                                    '(e.g. "auctions.buyer", docs/deposits.md "Refund origins")')
    origin_ref = serializers.CharField(allow_blank=True, help_text="the id of the object holding the deposit")
    from_account = serializers.CharField()
    payee_account = serializers.SerializerMethodField()
    payee_name = serializers.SerializerMethodField()
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    interest_rate = serializers.DecimalField(max_digits=9, decimal_places=6)
    day_count_basis = serializers.IntegerField()
    interest_until = serializers.DateField(allow_null=True)
    due_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    exported_at = serializers.DateTimeField(allow_null=True)
    executed_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField(allow_blank=True)

    def _masked(self, instruction) -> bool:
        mask = self.context.get("mask")
        return bool(mask and mask(instruction))

    def get_payee_account(self, instruction) -> str:
        return "sealed" if self._masked(instruction) else instruction.payee_account

    def get_payee_name(self, instruction) -> str:
        return "sealed" if self._masked(instruction) else instruction.payee_name


class AccountDetailOutput(AccountOutput):
    entries = EntryOutput(many=True)
    instructions = InstructionOutput(many=True)
    receipts = serializers.ListField(
        child=serializers.JSONField(),
        help_text="The signed booking receipts {receipt, signature, key_id} of this sub-account, oldest first "
                  "(docs/deposits.md, \"Booking receipts\"): only for the bidder organisation that holds them, "
                  "empty for anyone else. Prove one with GET /api/v1/audit/receipts/<receipt.receipt_id>.")


class DepositRowOutput(serializers.Serializer):
    registration = serializers.IntegerField()
    lot = serializers.IntegerField()
    bidder = serializers.CharField()
    registration_status = serializers.CharField()
    required = serializers.DecimalField(**MONEY)
    status = serializers.CharField()
    valid_total = serializers.DecimalField(**MONEY)
    guarantee_amount = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY)


class GuaranteeInput(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="The signed letter (JSON), as a file upload.")
    letter = serializers.DictField(required=False, help_text="The signed letter's JSON object.")
    alg = serializers.CharField(required=False)
    key_id = serializers.CharField(required=False)
    signature = serializers.CharField(required=False)

    def validate(self, attrs):
        if "file" in attrs:
            return {"document": attrs["file"].read()}
        if "letter" in attrs:
            return {"document": {k: attrs[k] for k in ("letter", "alg", "key_id", "signature") if k in attrs}}
        raise serializers.ValidationError("Send the signed letter as a file or as its JSON object.")


class GuaranteeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    letter_no = serializers.CharField()
    sha256 = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    issuer = serializers.CharField(source="issuer.name")
    accepted_at = serializers.DateTimeField()
    status = serializers.CharField(source="account.status")


class SuspenseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    txn_id = serializers.CharField()
    kind = serializers.CharField()
    virtual_account = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    booked_at = serializers.DateTimeField()
    counterparty_account = serializers.CharField()
    counterparty_name = serializers.CharField()
    reference = serializers.CharField()
    suspense_reason = serializers.CharField()
    outcome = serializers.CharField()
    source = serializers.CharField()


class SuspenseResolveInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=["return", "assign", "close"])
    account_number = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class StatementInput(serializers.Serializer):
    file = serializers.FileField()


class StatementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    line_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    booked_count = serializers.IntegerField()
    known_count = serializers.IntegerField()
    duplicate_count = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())
    imported_at = serializers.DateTimeField()


class ReconciliationOutput(serializers.Serializer):
    statement = serializers.IntegerField()
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    lines = serializers.IntegerField()
    distinct_transactions = serializers.IntegerField()
    duplicated = serializers.ListField(child=serializers.DictField())
    missing_from_statement = serializers.ListField(child=serializers.DictField())
    mismatched = serializers.ListField(child=serializers.DictField())
    not_booked = serializers.ListField(child=serializers.DictField())
    statement_only = serializers.ListField(child=serializers.DictField())
    suspense = serializers.ListField(child=serializers.DictField())
    totals = serializers.DictField(help_text="statement and ledger totals; ledger is null while sealed lines exist")
    difference = serializers.DictField(allow_null=True, help_text="null while sealed lines exist")
    balanced = serializers.BooleanField()


class ReissueInput(serializers.Serializer):
    payee_account = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    payee_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    payee_bank = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class WarningOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    level = serializers.CharField()
    tender = serializers.IntegerField(source="tender_id", allow_null=True)
    instruction = serializers.CharField(source="instruction.reference")
    message = serializers.CharField()
    raised_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class IssuerInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    uscc = serializers.CharField(max_length=18)
    public_key = serializers.CharField(help_text="SPKI PEM, DER base64: ECDSA P-256 or Ed25519.")


class IssuerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField()
    key_id = serializers.CharField()
    alg = serializers.CharField()
    added_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
