"""Input and output serializers of the expert API (experts/api.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import InputDateTimeField
from experts.models import (
    Assignment,
    AssignmentStatus,
    Channel,
    DrawWarning,
    EmploymentPosition,
    Expert,
    ExpertStatus,
    Specialty,
    SpecialtyCategory,
)


def _enum(choices, **kwargs) -> serializers.ChoiceField:
    """A choice field documented as a string listing its values: as an enum, drf-spectacular would name it
    after the field, and the "status" enums of different apps would collide."""

    @extend_schema_field({"type": "string", "description": "one of: " + ", ".join(v for v, _label in choices)})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


# --- pool -------------------------------------------------------------------------------------


class ExpertSpecialtyOutput(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent_id", allow_null=True)

    class Meta:
        model = Specialty
        fields = ["code", "name", "name_en", "parent", "category"]


class ExpertInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=18, min_length=18, write_only=True,
                                      help_text="resident ID number; only its keyed hash is stored")
    phone = serializers.CharField(max_length=32)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    region = serializers.RegexField(r"^\d{2,12}$", help_text="GB/T 2260 division code, e.g. 330100")
    employer = serializers.IntegerField(required=False, allow_null=True, default=None)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    years = serializers.IntegerField(min_value=0, max_value=80, required=False, default=0)
    specialties = serializers.ListField(child=serializers.CharField(max_length=16), min_length=1, max_length=20)
    user = serializers.IntegerField(required=False, allow_null=True, default=None)


class ExpertUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    phone = serializers.CharField(max_length=32, required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    region = serializers.RegexField(r"^\d{2,12}$", required=False)
    employer = serializers.IntegerField(required=False, allow_null=True)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    years = serializers.IntegerField(min_value=0, max_value=80, required=False)
    specialties = serializers.ListField(child=serializers.CharField(max_length=16), min_length=1, max_length=20,
                                        required=False)
    user = serializers.IntegerField(required=False, allow_null=True)


class ExpertStatusInput(serializers.Serializer):
    status = _enum(ExpertStatus.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ExpertEmploymentInput(serializers.Serializer):
    organisation = serializers.IntegerField()
    position = serializers.ChoiceField(choices=EmploymentPosition.choices, default=EmploymentPosition.EMPLOYEE)
    started_on = serializers.DateField(required=False, allow_null=True, default=None)
    ended_on = serializers.DateField(required=False, allow_null=True, default=None)


class ExpertRelativeInput(serializers.Serializer):
    organisation = serializers.IntegerField()
    relation = serializers.CharField(max_length=50)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ExpertLeaveInput(serializers.Serializer):
    starts_at = InputDateTimeField()
    ends_at = InputDateTimeField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ExpertOutput(serializers.ModelSerializer):
    employer = serializers.SerializerMethodField()
    status = _enum(ExpertStatus.choices, read_only=True)
    specialties = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Expert
        fields = ["id", "name", "phone", "email", "region", "employer", "title", "years", "status",
                  "status_reason", "specialties", "user", "created_at"]

    @extend_schema_field({"type": "object", "nullable": True,
                          "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}})
    def get_employer(self, expert) -> dict | None:
        return {"id": expert.employer_id, "name": expert.employer.name} if expert.employer_id else None


# --- draws ------------------------------------------------------------------------------------

class ExpertDrawLineInput(serializers.Serializer):
    specialty = serializers.CharField(max_length=16)
    count = serializers.IntegerField(min_value=0, max_value=99)
    reserves = serializers.IntegerField(min_value=0, max_value=99, required=False, default=0)


class ExpertDrawRequestInput(serializers.Serializer):
    lot = serializers.IntegerField()
    evaluation_start = InputDateTimeField()
    evaluation_end = InputDateTimeField()
    place = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    remote = serializers.BooleanField(required=False, default=False)
    committee_size = serializers.IntegerField(min_value=0, max_value=99)
    owner_representatives = serializers.IntegerField(min_value=0, max_value=99, required=False, default=0)
    lines = serializers.ListField(child=ExpertDrawLineInput(), min_length=1, max_length=10)
    regions = serializers.ListField(child=serializers.CharField(max_length=12), required=False, default=list,
                                    max_length=20)


class ExpertsReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DrawSeatOutput(serializers.Serializer):
    seat = serializers.IntegerField()
    line = serializers.IntegerField()
    specialty = serializers.CharField()
    status = serializers.CharField(help_text="accepted | notified | vacant")
    expert = serializers.SerializerMethodField(help_text="only for supervisors, or after the reveal")
    respond_by = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "nullable": True})
    def get_expert(self, seat) -> dict | None:
        if seat.expert is None:
            return None
        e = seat.expert
        return {"id": e.pk, "name": e.name, "phone": e.phone, "assignment": seat.assignment.pk}

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_respond_by(self, seat):
        if seat.assignment is None or seat.assignment.respond_by is None:
            return None
        return serializers.DateTimeField().to_representation(seat.assignment.respond_by)


class DrawLineOutput(serializers.Serializer):
    index = serializers.IntegerField()
    specialty = serializers.CharField(source="specialty.code")
    specialty_name = serializers.CharField(source="specialty.name")
    category = serializers.ChoiceField(source="specialty.category", choices=SpecialtyCategory.choices)
    count = serializers.IntegerField()
    reserves = serializers.IntegerField()
    accepted = serializers.IntegerField()
    pending = serializers.IntegerField()


class DrawSequenceOutput(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line.index")
    expert = serializers.IntegerField(source="expert_id")
    expert_name = serializers.CharField(source="expert.name")
    status = _enum(AssignmentStatus.choices, read_only=True)

    class Meta:
        model = Assignment
        fields = ["seq", "line", "position", "initial", "drawn_as", "expert", "expert_name", "identity_hash",
                  "status", "skip_reason", "seat", "notified_at", "respond_by", "responded_at", "response_via",
                  "left_reason"]


class DrawWarningOutput(serializers.ModelSerializer):
    tender = serializers.IntegerField(source="draw.tender_id")

    class Meta:
        model = DrawWarning
        fields = ["id", "draw", "tender", "kind", "message", "created_at", "acknowledged_at"]


class ExpertDrawOutput(serializers.Serializer):
    """A draw as its viewer may see it: identities, the sequence and the commitment for supervisors."""

    id = serializers.IntegerField(source="draw.pk")
    tender = serializers.IntegerField(source="draw.tender_id")
    tender_code = serializers.CharField(source="draw.tender.code")
    lot = serializers.IntegerField(source="draw.lot_id")
    lot_number = serializers.IntegerField(source="draw.lot.number")
    status = serializers.CharField(source="draw.status")
    evaluation_start = serializers.DateTimeField(source="draw.evaluation_start")
    evaluation_end = serializers.DateTimeField(source="draw.evaluation_end")
    place = serializers.CharField(source="draw.place")
    remote = serializers.BooleanField(source="draw.remote")
    committee_size = serializers.IntegerField(source="draw.committee_size")
    owner_representatives = serializers.IntegerField(source="draw.owner_representatives")
    regions = serializers.ListField(child=serializers.CharField(), source="draw.regions")
    created_at = serializers.DateTimeField(source="draw.created_at")
    drawn_at = serializers.DateTimeField(source="draw.drawn_at", allow_null=True)
    completed_at = serializers.DateTimeField(source="draw.completed_at", allow_null=True)
    revealed_at = serializers.DateTimeField(source="draw.revealed_at", allow_null=True)
    seed_revealed_at = serializers.DateTimeField(source="draw.seed_revealed_at", allow_null=True)
    lines = DrawLineOutput(many=True)
    seats = DrawSeatOutput(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())
    identities = serializers.BooleanField()
    commitment = serializers.SerializerMethodField()
    sequence = DrawSequenceOutput(many=True)
    warnings = DrawWarningOutput(many=True)

    @extend_schema_field({"type": "object", "nullable": True})
    def get_commitment(self, view) -> dict | None:
        if not view.sequence and not self.context.get("supervise"):
            return None
        d = view.draw
        return {"algorithm": d.algorithm, "commit_seq": d.commit_seq, "entropy": d.entropy,
                "seed_sha256": d.seed_sha256, "pool_sha256": d.pool_sha256, "pool_size": d.pool_size,
                "pool_sizes": [line.pool_size for line in view.lines], "excluded": d.excluded,
                "bidders": d.bidders_count, "seed": d.seed_revealed or None}


class ExpertDrawListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    tender_code = serializers.CharField(source="tender.code")
    lot = serializers.IntegerField(source="lot_id")
    lot_number = serializers.IntegerField(source="lot.number")
    status = serializers.CharField()
    committee_size = serializers.IntegerField()
    evaluation_start = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class ExpertAssignmentOutput(serializers.ModelSerializer):
    """The expert's own call: the tender, the time and place, the seat's status. Never other members."""

    tender = serializers.IntegerField(source="draw.tender_id")
    tender_code = serializers.CharField(source="draw.tender.code")
    tender_title = serializers.CharField(source="draw.tender.title")
    lot_number = serializers.IntegerField(source="draw.lot.number")
    specialty = serializers.CharField(source="line.specialty_id")
    evaluation_start = serializers.DateTimeField(source="draw.evaluation_start")
    evaluation_end = serializers.DateTimeField(source="draw.evaluation_end")
    place = serializers.CharField(source="draw.place")
    remote = serializers.BooleanField(source="draw.remote")
    status = _enum(AssignmentStatus.choices, read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "tender", "tender_code", "tender_title", "lot_number", "specialty", "evaluation_start",
                  "evaluation_end", "place", "remote", "status", "seat", "notified_at", "respond_by",
                  "responded_at", "response_via"]


class GatewayInboundInput(serializers.Serializer):
    id = serializers.CharField(max_length=100)
    channel = serializers.ChoiceField(choices=[Channel.SMS, Channel.VOICE], default=Channel.SMS)
    text = serializers.CharField(max_length=500, allow_blank=True)
    ref = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(max_length=32, required=False, allow_blank=True, default="",
                                               help_text="the sender's phone number")
        return fields


# --- the public draw record (experts/publication.py, docs/experts.md "Public draw record") ---------

class DrawRecordProofOutput(serializers.Serializer):
    leaf_index = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    hashes = serializers.ListField(child=serializers.CharField(), help_text="RFC 6962 audit path, hex")
    checkpoint = serializers.CharField(help_text="signed checkpoint note of tree_size")


class DrawRecordLineOutput(serializers.Serializer):
    index = serializers.IntegerField()
    specialty = serializers.CharField()
    category = serializers.CharField()
    count = serializers.IntegerField()
    reserves = serializers.IntegerField()
    steps = serializers.IntegerField(help_text="outputs taken from the line's stream")
    words = serializers.IntegerField(help_text="64-bit words consumed by the line's stream")
    pool = serializers.ListField(child=serializers.IntegerField(), help_text="eligible expert ids, ascending")


class DrawRecordRowOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    line = serializers.IntegerField()
    position = serializers.IntegerField()
    expert = serializers.IntegerField()
    initial = serializers.BooleanField()
    drawn_as = serializers.CharField()
    seat = serializers.IntegerField(allow_null=True)
    outcome = serializers.CharField(help_text="skipped, reserve, accepted, declined, timed_out, left, released")
    skip = serializers.CharField(allow_null=True, help_text="duplicate | unavailable | null")


class DrawRecordMemberOutput(serializers.Serializer):
    seat = serializers.IntegerField()
    line = serializers.IntegerField()
    expert = serializers.IntegerField()
    name = serializers.CharField()


class DrawRecordOutput(serializers.Serializer):
    format = serializers.CharField()
    version = serializers.IntegerField()
    draw = serializers.IntegerField()
    tender = serializers.IntegerField()
    lot = serializers.IntegerField()
    status = serializers.CharField()
    algorithm = serializers.CharField()
    seed = serializers.CharField(help_text="32 bytes, hex")
    seed_sha256 = serializers.CharField()
    entropy = serializers.CharField(help_text="leaf hash of the commit event, hex")
    pool_sha256 = serializers.CharField()
    commit_seq = serializers.IntegerField()
    commit_event = serializers.CharField(help_text="the commit event's canonical JSON")
    commit_proof = DrawRecordProofOutput(allow_null=True)
    revealed_at = serializers.DateTimeField(allow_null=True)
    seed_revealed_at = serializers.DateTimeField()
    lines = DrawRecordLineOutput(many=True)
    sequence = DrawRecordRowOutput(many=True)
    members = DrawRecordMemberOutput(many=True)
