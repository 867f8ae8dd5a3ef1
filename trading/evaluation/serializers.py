"""Input and output serializers of the evaluation API (sealing is decided by the selectors)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import InputDateTimeField
from trading import clock
from trading.evaluation.models import ComplaintDecision, CriterionKind

MONEY = {"max_digits": 18, "decimal_places": 2}
POINTS = {"max_digits": 5, "decimal_places": 2}


# --- inputs ------------------------------------------------------------------------------------------


class EvaluationCriterionInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=CriterionKind.choices, default=CriterionKind.SCORED)
    max_points = serializers.DecimalField(**POINTS, min_value=Decimal("0.01"), max_value=Decimal(100))


class EvaluationCriteriaInput(serializers.Serializer):
    criteria = EvaluationCriterionInput(many=True)


class InterestDeclarationInput(serializers.Serializer):
    no_conflict = serializers.BooleanField(help_text="True: I have no conflict of interest with any bidder.")
    statement = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class QualificationMarkInput(serializers.Serializer):
    bid = serializers.IntegerField()
    passed = serializers.BooleanField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class QualificationMarksInput(serializers.Serializer):
    marks = QualificationMarkInput(many=True)


class EvaluationScoreInput(serializers.Serializer):
    bid = serializers.IntegerField()
    criterion = serializers.IntegerField()
    points = serializers.DecimalField(**POINTS, min_value=Decimal(0))
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EvaluationScoresInput(serializers.Serializer):
    scores = EvaluationScoreInput(many=True)


class EvalReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ReportSignInput(serializers.Serializer):
    agrees = serializers.BooleanField(default=True)
    dissent = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class EvalTitleInput(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class EvalTextInput(serializers.Serializer):
    text = serializers.CharField(max_length=20000)


class PublicityObjectionReplyInput(serializers.Serializer):
    reply = serializers.CharField(max_length=20000)
    upheld = serializers.BooleanField(default=False, help_text="Upheld: the result goes back to the committee.")


class ComplaintInput(serializers.Serializer):
    text = serializers.CharField(max_length=20000)
    objection = serializers.IntegerField(required=False, allow_null=True, default=None,
                                         help_text="Your objection during the publicity (required for the "
                                                   "evaluation result, 实施条例 Art 60).")


class ComplaintDecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ComplaintDecision.choices)
    text = serializers.CharField(max_length=20000)


class ContractInput(serializers.Serializer):
    signed_at = InputDateTimeField()
    amount = serializers.DecimalField(**MONEY, required=False, allow_null=True, default=None)
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    document_sha256 = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


# --- outputs -------------------------------------------------------------------------------------------


class EvaluationCriterionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.CharField()
    max_points = serializers.DecimalField(**POINTS)


class EvaluationSessionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    tender_code = serializers.CharField(source="tender.code")
    lot = serializers.IntegerField(source="lot_id")
    lot_number = serializers.IntegerField(source="lot.number")
    method = serializers.CharField()
    status = serializers.CharField()
    round = serializers.IntegerField()
    seats = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    concluded_at = serializers.DateTimeField(allow_null=True)
    bids_sha256 = serializers.CharField()


class CommitteeMemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    seat = serializers.IntegerField()
    name = serializers.CharField()
    expert_hash = serializers.CharField()
    status = serializers.CharField()
    signed_in_at = serializers.DateTimeField()
    declared_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField()


class EvaluationProgressOutput(serializers.Serializer):
    seats = serializers.IntegerField()
    signed_in = serializers.IntegerField()
    declared = serializers.IntegerField()
    submitted = serializers.IntegerField()


class EvaluationSessionDetailOutput(serializers.Serializer):
    session = EvaluationSessionOutput()
    members = CommitteeMemberOutput(many=True)
    me = CommitteeMemberOutput(allow_null=True)
    progress = EvaluationProgressOutput()
    report = serializers.IntegerField(allow_null=True)


class EvaluationSignInOutput(serializers.Serializer):
    member = CommitteeMemberOutput(allow_null=True)
    waiting = serializers.BooleanField()
    removed = serializers.IntegerField()
    message = serializers.CharField()


class EvaluationBidOutput(serializers.Serializer):
    id = serializers.IntegerField()
    bidder = serializers.IntegerField(source="bidder_id")
    bidder_name = serializers.CharField(source="bidder.name")
    price = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    readout = serializers.JSONField()
    files = serializers.JSONField()
    received_at = serializers.DateTimeField()
    envelope_sha256 = serializers.CharField()


class EvaluationSheetOutput(serializers.Serializer):
    round = serializers.IntegerField()
    content = serializers.JSONField()
    problems = serializers.ListField(child=serializers.CharField())
    submitted_at = serializers.DateTimeField(allow_null=True)
    sha256 = serializers.CharField(allow_null=True)
    receipt = serializers.JSONField(allow_null=True)


class SheetSubmissionOutput(serializers.Serializer):
    round = serializers.IntegerField()
    sha256 = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    receipt = serializers.JSONField()
    report = serializers.IntegerField(allow_null=True)


class VisibleSheetOutput(serializers.Serializer):
    seat = serializers.IntegerField()
    member = serializers.IntegerField()
    status = serializers.CharField()
    round = serializers.IntegerField()
    submitted = serializers.BooleanField()
    sha256 = serializers.CharField(allow_null=True)
    content = serializers.JSONField()


class ReportSignatureOutput(serializers.Serializer):
    seat = serializers.IntegerField(source="member.seat")
    expert_hash = serializers.CharField(source="member.expert_hash")
    signed_at = serializers.DateTimeField()
    agrees = serializers.BooleanField()
    dissent = serializers.CharField()
    receipt = serializers.JSONField()


class EvaluationReportOutput(serializers.Serializer):
    report = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    sha256 = serializers.CharField()
    generated_at = serializers.DateTimeField()
    finalized_at = serializers.DateTimeField(allow_null=True)
    level = serializers.CharField(help_text="full | summary | public (sealing level for the reader)")
    content = serializers.JSONField()
    signatures = ReportSignatureOutput(many=True)


class PublicityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    notice = serializers.IntegerField(source="notice_id")
    sha256 = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    ended = serializers.SerializerMethodField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    late = serializers.BooleanField()
    content = serializers.JSONField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_ended(self, obj) -> bool:
        return obj.withdrawn_at is None and obj.tender.publicity_ended_at is not None


class PublicityObjectionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    publicity = serializers.IntegerField(source="publicity_id")
    raised_by = serializers.CharField(source="raised_by_org.name")
    text = serializers.CharField()
    raised_at = serializers.DateTimeField()
    reply_due_at = serializers.DateTimeField()
    status = serializers.CharField()
    reply = serializers.CharField()
    outcome = serializers.CharField()
    replied_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, obj) -> bool:
        return obj.is_overdue(clock.now())


class ComplaintOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    tender_code = serializers.CharField(source="tender.code")
    objection = serializers.IntegerField(source="objection_id", allow_null=True)
    raised_by = serializers.CharField(source="raised_by_org.name")
    text = serializers.CharField()
    filed_at = serializers.DateTimeField()
    filing_deadline = serializers.DateTimeField()
    accept_due_at = serializers.DateTimeField()
    status = serializers.CharField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    decide_due_at = serializers.DateTimeField(allow_null=True)
    decision = serializers.CharField()
    decision_text = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)


class AwardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    lot = serializers.IntegerField(source="lot_id")
    lot_number = serializers.IntegerField(source="lot.number")
    winner = serializers.IntegerField(source="bid.bidder_id")
    winner_name = serializers.CharField(source="bid.bidder.name")
    price = serializers.DecimalField(source="bid.price", **MONEY)
    rank = serializers.IntegerField()
    notice = serializers.IntegerField(source="notice_id")
    awarded_at = serializers.DateTimeField()
    contract_due_at = serializers.DateTimeField()
    status = serializers.CharField()
    letter_sha256 = serializers.CharField()
    declined_at = serializers.DateTimeField(allow_null=True)


class AwardLetterOutput(AwardOutput):
    letter = serializers.JSONField()


class ContractOutput(serializers.Serializer):
    id = serializers.IntegerField()
    award = serializers.IntegerField(source="award_id")
    tender = serializers.IntegerField(source="tender_id")
    lot_number = serializers.IntegerField(source="award.lot.number")
    supplier = serializers.CharField(source="award.bid.bidder.name")
    title = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    signed_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    late = serializers.BooleanField()
    document_sha256 = serializers.CharField()


class MemberRatingInput(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class MemberRatingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    expert_id = serializers.IntegerField()
    rater_role = serializers.CharField()
    score = serializers.IntegerField()
    rated_at = serializers.DateTimeField()
