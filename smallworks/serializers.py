from __future__ import annotations

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
