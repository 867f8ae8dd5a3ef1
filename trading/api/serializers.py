"""Input and output serializers of the trading API.

Output serializers render sealed fields through trading/visibility.py only:
they receive the requesting user in `context["user"]` and show None where the
user may not see a fact (ProZorro style: role- and status-dependent fields).
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organisation
from config.api import InputDateTimeField
from trading import clock, selectors, visibility
from trading.models import (
    READOUT_ITEMS,
    RESULT_KINDS,
    EvaluationMethod,
    NoticeKind,
    ProcedureType,
    TenderStatus,
)

MONEY = {"max_digits": 18, "decimal_places": 2}


def _user(serializer):
    return serializer.context.get("user")


# --- inputs --------------------------------------------------------------------------------

PUBLIC_ID_HELP = "Random public id (UUID 4), used in URLs: it discloses no count (docs/tendering.md)."


class TenderInput(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000, default="")
    tenderer = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    procedure_type = serializers.ChoiceField(choices=ProcedureType.choices)
    evaluation_method = serializers.ChoiceField(
        choices=EvaluationMethod.choices, default=EvaluationMethod.LOWEST_EVALUATED_PRICE
    )
    readout_items = serializers.ListField(
        child=serializers.ChoiceField(choices=list(READOUT_ITEMS)),
        required=False,
        default=list,
        max_length=len(READOUT_ITEMS),
        help_text='Items read out at the opening; "price" is always included.',
    )
    decryption_window_minutes = serializers.IntegerField(min_value=1, max_value=1440, default=30)
    confirmation_window_minutes = serializers.IntegerField(min_value=1, max_value=1440, default=15)
    bid_deadline = InputDateTimeField(help_text="Bid deadline = opening time (RFC 3339).")
    documents_available_until = InputDateTimeField(
        required=False, allow_null=True, default=None, help_text="Defaults to the bid deadline."
    )


class LotInput(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    estimated_price = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
    deposit_amount = serializers.DecimalField(**MONEY, min_value=Decimal(0), default=Decimal(0))
    max_envelope_bytes = serializers.IntegerField(min_value=1, max_value=10 * 1024**3, required=False)


class PublishInput(serializers.Serializer):
    notice_title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    notice_body = serializers.CharField(
        max_length=50000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Extra text appended to the generated tender notice.",
    )


class DocumentUploadInput(serializers.Serializer):
    file = serializers.FileField()
    name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Defaults to the file's name; the same name makes a new version.",
    )
    amendment_title = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="",
        help_text="Required once the tender is published: a document change is an amendment (招标投标法 Art 23).",
    )
    amendment_body = serializers.CharField(
        max_length=50000, required=False, allow_blank=True, default="",
        help_text="What changes and why; published in the amendment notice.",
    )
    new_deadline = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="A later bid deadline; required when fewer than 15 days would remain (the refusal proposes one).",
    )


class AmendmentInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            (NoticeKind.AMENDMENT, NoticeKind.AMENDMENT.label),
            (NoticeKind.CLARIFICATION, NoticeKind.CLARIFICATION.label),
        ],
        default=NoticeKind.AMENDMENT,
    )
    title = serializers.CharField(max_length=300)
    body = serializers.CharField(max_length=100000)
    affects_preparation = serializers.BooleanField(
        help_text="May this change affect bid preparation? Then 15 days must remain before the deadline."
    )
    new_deadline = InputDateTimeField(required=False, allow_null=True, default=None)


class ResultNoticeInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in RESULT_KINDS])
    title = serializers.CharField(max_length=300)
    body = serializers.CharField(max_length=100000)


class ProposalQuery(serializers.Serializer):
    affects_preparation = serializers.BooleanField(default=True)


class TextInput(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class AnswerInput(serializers.Serializer):
    answer = serializers.CharField(max_length=5000)


class ReplyInput(serializers.Serializer):
    reply = serializers.CharField(max_length=5000)


class TenderFilter(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    procedure_type = serializers.ChoiceField(
        choices=ProcedureType.choices, required=False, allow_blank=True, default=""
    )
    status = serializers.ChoiceField(choices=TenderStatus.choices, required=False, allow_blank=True, default="")


class NoticeFilter(TenderFilter):
    kind = serializers.ChoiceField(choices=NoticeKind.choices, required=False, allow_blank=True, default="")
    tender = serializers.IntegerField(required=False, min_value=1, allow_null=True, default=None)


# --- outputs -------------------------------------------------------------------------------


class OrganisationBrief(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LotOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    number = serializers.IntegerField()
    title = serializers.CharField()
    estimated_price = serializers.DecimalField(**MONEY)
    deposit_amount = serializers.DecimalField(**MONEY)
    max_deposit = serializers.SerializerMethodField(help_text="Highest deposit the rules allow for this lot.")
    max_envelope_bytes = serializers.IntegerField()

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_max_deposit(self, lot) -> str:
        return str(lot.tender.rules.max_deposit(lot.estimated_price))


class TenderListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    tenderer = OrganisationBrief()
    agent = OrganisationBrief()
    procedure_type = serializers.CharField()
    status = serializers.CharField()
    bid_deadline = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)


class TenderOutput(TenderListOutput):
    description = serializers.CharField()
    evaluation_method = serializers.CharField()
    readout_items = serializers.ListField(child=serializers.CharField())
    decryption_window_minutes = serializers.IntegerField()
    confirmation_window_minutes = serializers.IntegerField()
    documents_issued_at = serializers.DateTimeField(allow_null=True)
    documents_available_until = serializers.DateTimeField(allow_null=True)
    objection_deadline = serializers.SerializerMethodField()
    bidding_closed_at = serializers.DateTimeField(allow_null=True)
    publicity_ends_at = serializers.DateTimeField(allow_null=True)
    publicity_ended_at = serializers.DateTimeField(allow_null=True)
    lots = serializers.SerializerMethodField()
    sealed = serializers.BooleanField(
        source="is_sealed", help_text="True until the bid deadline fired: registrations and downloads are sealed."
    )
    registration_count = serializers.SerializerMethodField(help_text="null while sealed for you.")
    download_count = serializers.SerializerMethodField(help_text="null while sealed for you.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_objection_deadline(self, tender):
        return serializers.DateTimeField().to_representation(tender.objection_cutoff())

    @extend_schema_field(LotOutput(many=True))
    def get_lots(self, tender):
        return LotOutput(tender.lots.all(), many=True).data

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_registration_count(self, tender) -> int | None:
        return visibility.registration_count(_user(self), tender)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_download_count(self, tender) -> int | None:
        return visibility.download_count(_user(self), tender)


class NoticeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    tender_code = serializers.CharField(source="tender.code")
    tender_title = serializers.CharField(source="tender.title")
    procedure_type = serializers.CharField(source="tender.procedure_type")
    kind = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    affects_preparation = serializers.BooleanField()
    new_deadline = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField(help_text="SHA-256 of the canonical JSON of Notice.content().")
    receipt = serializers.SerializerMethodField(
        help_text="The signed publication receipt {receipt, signature, key_id} (docs/audit.md, \"Receipts\"): "
                  "only for the publishing organisation, null for everyone else. Prove it with "
                  "GET /api/v1/audit/receipts/<receipt.receipt_id>.")

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_receipt(self, notice) -> dict | None:
        signed = getattr(notice, "receipt", None)  # set by the publishing service on the new notice
        if signed is not None:
            return signed

        user = _user(self)
        return selectors.notice_receipt(user=user, notice=notice) if user is not None else None


class DocumentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    name = serializers.CharField()
    version = serializers.IntegerField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    superseded = serializers.BooleanField()
    download_url = serializers.SerializerMethodField()
    download_count = serializers.SerializerMethodField(help_text="null while sealed for you.")

    def get_download_url(self, doc) -> str:
        return f"/api/v1/documents/{doc.pk}/download"

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_download_count(self, doc) -> int | None:
        return visibility.download_count(_user(self), doc.tender, doc)


class DownloadOutput(serializers.Serializer):
    id = serializers.IntegerField()
    document = serializers.IntegerField(source="document_id")
    document_name = serializers.CharField(source="document.name")
    document_version = serializers.IntegerField(source="document.version")
    organisation = OrganisationBrief(allow_null=True)
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    downloaded_at = serializers.DateTimeField()


class PayeeAccountOutput(serializers.Serializer):
    bank = serializers.CharField()
    account_name = serializers.CharField()
    account_number = serializers.CharField()


class DepositInstructionsOutput(serializers.Serializer):
    required = serializers.BooleanField()
    amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    payee_account = PayeeAccountOutput()
    virtual_account = serializers.DictField(
        allow_null=True, help_text="The bidder's virtual sub-account; null until provided."
    )
    payer_account = PayeeAccountOutput()
    payer_rule = serializers.CharField()
    due_before = serializers.DateTimeField()
    reference = serializers.CharField()


class RegistrationOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", help_text=PUBLIC_ID_HELP)
    tender = serializers.IntegerField(source="tender_id")
    tender_code = serializers.CharField(source="tender.code")
    lot = serializers.IntegerField(source="lot_id")
    lot_number = serializers.IntegerField(source="lot.number")
    bidder = OrganisationBrief()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class RegistrationCreatedOutput(serializers.Serializer):
    registration = RegistrationOutput()
    deposit_instructions = DepositInstructionsOutput()


class AuthorOutput(serializers.Serializer):
    organisation = serializers.CharField()
    organisation_id = serializers.IntegerField()
    user = serializers.CharField()


class QuestionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    text = serializers.CharField()
    asked_at = serializers.DateTimeField()
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    published = serializers.BooleanField()
    asked_by = serializers.SerializerMethodField(help_text="Shown only to supervisors and the asker's organisation.")

    @extend_schema_field(AuthorOutput(allow_null=True))
    def get_asked_by(self, question):
        return visibility.question_author(_user(self), question)


class ObjectionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    tender_code = serializers.CharField(source="tender.code")
    text = serializers.CharField()
    raised_at = serializers.DateTimeField()
    reply_due_at = serializers.DateTimeField()
    reply = serializers.CharField()
    replied_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    overdue = serializers.SerializerMethodField()
    raised_by = serializers.SerializerMethodField(help_text="Sealed from the tender's side until the deadline.")

    def get_overdue(self, objection) -> bool:
        return objection.is_overdue(clock.now())

    @extend_schema_field(AuthorOutput(allow_null=True))
    def get_raised_by(self, objection):
        return visibility.objection_author(_user(self), objection)


class AmendmentProposalOutput(serializers.Serializer):
    affects_preparation = serializers.BooleanField()
    current_deadline = serializers.DateTimeField()
    required = serializers.BooleanField(help_text="Must an amendment published now move the deadline?")
    earliest_deadline = serializers.DateTimeField(allow_null=True)
    proposed_deadline = serializers.DateTimeField(allow_null=True)
    rule = serializers.CharField()
    source = serializers.CharField()


class ProblemOutput(serializers.Serializer):
    rule = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()
    source = serializers.CharField()


class RuleCheckOutput(serializers.Serializer):
    publishable = serializers.BooleanField()
    problems = ProblemOutput(many=True)


class PublishOutput(serializers.Serializer):
    tender = TenderOutput()
    notice = NoticeOutput()
