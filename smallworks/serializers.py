from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import InputDateTimeField
from smallworks.models import Entry, Objection, Pick, Project, SupervisionWarning


class FixedPriceProjectInput(serializers.Serializer):
    tenderer = serializers.IntegerField()
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    contract_price = serializers.DecimalField(max_digits=18, decimal_places=2)
    qualification_conditions = serializers.ListField(child=serializers.CharField(max_length=500), max_length=50)
    deposit_amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, default=0)
    registration_ends_at = InputDateTimeField()
    drawing_at = InputDateTimeField()
    signing_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    reserves = serializers.IntegerField(min_value=0, max_value=10, required=False, default=2)


class FixedPriceProjectOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    tenderer = serializers.CharField(source="tenderer.name")
    agent = serializers.CharField(source="agent.name")
    contractor = serializers.CharField(source="contractor.name", allow_null=True, default=None)

    class Meta:
        model = Project
        fields = ["id", "code", "title", "description", "tenderer", "agent", "contract_price",
                  "qualification_conditions", "deposit_amount", "registration_ends_at", "drawing_at", "signing_days",
                  "reserves", "status", "published_at", "reviewed_at", "objections_until", "contractor",
                  "publicity_ends_at", "contract_signed_at", "completed_at", "failed_reason"]


class FixedPriceEntryInput(serializers.Serializer):
    documents = serializers.ListField(child=serializers.FileField(), min_length=1, max_length=20)
    relation_declared = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class FixedPriceEntryOutput(serializers.ModelSerializer):
    organisation = serializers.IntegerField(source="organisation_id")
    name = serializers.CharField(source="organisation.name")
    uscc = serializers.CharField(source="organisation.uscc")
    deposit = serializers.SerializerMethodField()

    class Meta:
        model = Entry
        fields = ["id", "organisation", "name", "uscc", "registered_at", "relation_declared", "relation_found",
                  "qualification", "reasons", "reviewed_at", "deposit"]

    def get_deposit(self, entry: Entry) -> str:
        from smallworks.services import deposit_status

        return str(deposit_status(entry))


class FixedPriceEntryCreatedOutput(serializers.Serializer):
    entry = FixedPriceEntryOutput()
    deposit_instructions = serializers.JSONField()


class FixedPriceReviewInput(serializers.Serializer):
    passed = serializers.BooleanField()
    reasons = serializers.CharField(max_length=2000)
    relation_found = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class FixedPriceObjectionInput(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class FixedPriceObjectionReplyInput(serializers.Serializer):
    reply = serializers.CharField(max_length=5000)
    upheld = serializers.BooleanField()


class FixedPriceObjectionOutput(serializers.ModelSerializer):
    class Meta:
        model = Objection
        fields = ["id", "text", "raised_at", "reply", "upheld", "replied_at"]


class FixedPricePickOutput(serializers.ModelSerializer):
    organisation = serializers.IntegerField(source="organisation_id")
    name = serializers.CharField(source="organisation.name")

    class Meta:
        model = Pick
        fields = ["id", "position", "organisation", "name", "status", "called_at", "sign_due_at", "signed_at"]


class FixedPricePoolMemberOutput(serializers.Serializer):
    organisation = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField()


class FixedPriceSequenceOutput(serializers.Serializer):
    position = serializers.IntegerField()
    organisation = serializers.IntegerField()
    outcome = serializers.CharField()


class FixedPriceDrawingRecordOutput(serializers.Serializer):
    format = serializers.CharField()
    version = serializers.IntegerField()
    project = serializers.IntegerField()
    code = serializers.CharField()
    algorithm = serializers.CharField()
    line = serializers.IntegerField()
    seed = serializers.CharField()
    seed_sha256 = serializers.CharField()
    entropy = serializers.CharField()
    commit_seq = serializers.IntegerField()
    commit_event = serializers.CharField()
    pool_sha256 = serializers.CharField()
    pool = FixedPricePoolMemberOutput(many=True)
    request = serializers.JSONField()
    steps = serializers.IntegerField()
    words = serializers.IntegerField()
    sequence = FixedPriceSequenceOutput(many=True)


class FixedPriceExclusionOutput(serializers.Serializer):
    organisation = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField()
    reason = serializers.CharField()
    detail = serializers.CharField()
    record = serializers.CharField(required=False)


class FixedPriceWarningOutput(serializers.ModelSerializer):
    project = serializers.CharField(source="project.code")

    class Meta:
        model = SupervisionWarning
        fields = ["id", "project", "kind", "message", "raised_at", "acknowledged_at"]


# --- open data (OCDS 1.1 release package; smallworks/opendata.py, docs/smallworks.md "Open data") ---
# Field by field what `project_package` builds: the serializer renders the package unchanged (every value
# passes through; OCDS amounts stay JSON numbers) and the schema says what the API returns.


@extend_schema_field(OpenApiTypes.NUMBER)
class OcdsAmountField(serializers.Field):
    """An OCDS amount: a JSON number (integer or float, converted exactly from the decimal), never a string."""

    def to_representation(self, value):
        return value


class FixedPriceOcdsValueOutput(serializers.Serializer):
    amount = OcdsAmountField(help_text="the fixed contract price, a JSON number")
    currency = serializers.CharField(help_text="CNY")


class FixedPriceOcdsOrgRefOutput(serializers.Serializer):
    id = serializers.CharField(help_text="CN-USCC-<统一社会信用代码>")
    name = serializers.CharField()


class FixedPriceOcdsIdentifierOutput(serializers.Serializer):
    scheme = serializers.CharField(help_text="CN-USCC")
    id = serializers.CharField()
    legalName = serializers.CharField()  # noqa: N815 (OCDS field name)


class FixedPriceOcdsPartyOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    identifier = FixedPriceOcdsIdentifierOutput()
    roles = serializers.ListField(child=serializers.CharField(), help_text="buyer (the tenderer), procuringEntity "
                                  "(the agent), supplier (the contractor, once confirmed)")


class FixedPriceOcdsPeriodOutput(serializers.Serializer):
    startDate = serializers.CharField(required=False)  # noqa: N815 (OCDS field name)
    endDate = serializers.CharField(required=False)  # noqa: N815 (OCDS field name)


class FixedPriceOcdsDocumentOutput(serializers.Serializer):
    id = serializers.CharField()
    documentType = serializers.CharField(help_text="tenderNotice (the notice page), evaluationReports "  # noqa: N815
                                         "(the public drawing record)")
    title = serializers.CharField()
    url = serializers.CharField()
    datePublished = serializers.CharField(required=False)  # noqa: N815 (OCDS field name)
    format = serializers.CharField()
    language = serializers.CharField()


class FixedPriceOcdsTenderOutput(serializers.Serializer):
    id = serializers.CharField(help_text="the project code")
    title = serializers.CharField()
    description = serializers.CharField(required=False)
    status = serializers.CharField(help_text="active, complete (confirmed) or unsuccessful (failed)")
    procuringEntity = FixedPriceOcdsOrgRefOutput()  # noqa: N815 (OCDS field name)
    value = FixedPriceOcdsValueOutput()
    procurementMethod = serializers.CharField(help_text="limited")  # noqa: N815 (OCDS field name)
    procurementMethodDetails = serializers.CharField()  # noqa: N815 (OCDS field name)
    mainProcurementCategory = serializers.CharField(help_text="works")  # noqa: N815 (OCDS field name)
    eligibilityCriteria = serializers.CharField(required=False,  # noqa: N815 (OCDS field name)
                                                help_text="the qualification conditions, one per line")
    tenderPeriod = FixedPriceOcdsPeriodOutput(help_text="publication → registration end")  # noqa: N815
    documents = FixedPriceOcdsDocumentOutput(many=True)


class FixedPriceOcdsAwardOutput(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField(help_text="pending during the result publicity, active once contracted")
    date = serializers.CharField(required=False, help_text="the confirmation")
    value = FixedPriceOcdsValueOutput()
    suppliers = FixedPriceOcdsOrgRefOutput(many=True)
    documents = FixedPriceOcdsDocumentOutput(many=True)


class FixedPriceOcdsContractOutput(serializers.Serializer):
    id = serializers.CharField()
    awardID = serializers.CharField()  # noqa: N815 (OCDS field name)
    title = serializers.CharField()
    status = serializers.CharField(help_text="active; terminated once the works are completed")
    value = FixedPriceOcdsValueOutput()
    dateSigned = serializers.CharField()  # noqa: N815 (OCDS field name)
    period = FixedPriceOcdsPeriodOutput(required=False, help_text="signature → completion, once completed")


class FixedPriceOcdsReleaseOutput(serializers.Serializer):
    ocid = serializers.CharField(help_text="<OCDS_OCID_PREFIX>-<project code>")
    id = serializers.CharField(help_text="<ocid>-tender|award|contract-<12 hex of the release's SHA-256>")
    date = serializers.CharField()
    tag = serializers.ListField(child=serializers.CharField(),
                                help_text='["tender"], ["award"], ["award", "contract"] or ["tenderUpdate"] (failed)')
    initiationType = serializers.CharField()  # noqa: N815 (OCDS field name)
    language = serializers.CharField()
    parties = FixedPriceOcdsPartyOutput(many=True)
    buyer = FixedPriceOcdsOrgRefOutput(help_text="the tenderer")
    tender = FixedPriceOcdsTenderOutput()
    awards = FixedPriceOcdsAwardOutput(many=True, required=False, help_text="once an enterprise confirmed")
    contracts = FixedPriceOcdsContractOutput(many=True, required=False, help_text="once contracted")


class FixedPriceOcdsPublisherOutput(serializers.Serializer):
    name = serializers.CharField()
    uri = serializers.CharField()


class FixedPriceOcdsPackageOutput(serializers.Serializer):
    uri = serializers.CharField(help_text="the request URL (absolute)")
    version = serializers.CharField()
    publishedDate = serializers.CharField()  # noqa: N815 (OCDS field name)
    publisher = FixedPriceOcdsPublisherOutput()
    license = serializers.CharField()
    publicationPolicy = serializers.CharField(help_text="absolute URL")  # noqa: N815 (OCDS field name)
    releases = FixedPriceOcdsReleaseOutput(many=True)
