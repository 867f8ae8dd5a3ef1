from __future__ import annotations

from rest_framework import serializers

from credit.models import CreditDecision, CreditRecord, CreditRequest, RequestKind
from credit.rules import RecordKind, Severity


class CreditDecisionOutput(serializers.ModelSerializer):
    class Meta:
        model = CreditDecision
        fields = ["action", "actor", "at", "reason", "audit_seq"]


class CreditRequestOutput(serializers.ModelSerializer):
    class Meta:
        model = CreditRequest
        fields = ["id", "kind", "text", "submitted_at", "status", "decided_at", "decision_reason"]


class EvidenceOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    action = serializers.CharField()
    object = serializers.CharField()
    hash = serializers.CharField()


class CreditRecordOutput(serializers.ModelSerializer):
    evidence = EvidenceOutput(many=True)
    organisation = serializers.IntegerField(source="organisation_id", allow_null=True)
    expert = serializers.IntegerField(source="expert_id", allow_null=True)

    class Meta:
        model = CreditRecord
        fields = ["number", "kind", "severity", "status", "organisation", "expert", "subject_name", "subject_uscc",
                  "facts", "source_ref", "evidence", "proposed_at", "decided_at", "decision_reason",
                  "published_from", "published_until", "bar_until", "bar_basis", "ended_at"]


class CreditRecordDetailOutput(CreditRecordOutput):
    decisions = CreditDecisionOutput(many=True)
    requests = CreditRequestOutput(many=True)

    class Meta(CreditRecordOutput.Meta):
        fields = [*CreditRecordOutput.Meta.fields, "decisions", "requests"]


class CreditProposeInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    organisation = serializers.IntegerField(required=False, allow_null=True, default=None)
    expert = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    expert_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    facts = serializers.CharField(max_length=5000)
    evidence = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=50, required=False,
                                     default=list, help_text="audit event seqs proving the facts")
    source_ref = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class CreditDecideInput(serializers.Serializer):
    publish = serializers.BooleanField()
    reason = serializers.CharField(max_length=5000)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)


class CreditRequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    text = serializers.CharField(max_length=5000)


class CreditRequestDecideInput(serializers.Serializer):
    grant = serializers.BooleanField()
    reason = serializers.CharField(max_length=5000)
