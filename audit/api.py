"""Audit API under /api/v1/audit/ (docs/audit.md).

Public (hashes only, 政务公开): checkpoints, the platform's public key, inclusion and
consistency proofs. Supervisors only (`audit.view_events`): event contents and export.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.policy import can
from audit import checkpoints, export
from audit.canonical import format_timestamp
from audit.models import AuditEvent, Checkpoint
from audit.signing import (
    note_key_name,
    platform_key_id,
    platform_public_key_b64,
    platform_public_key_pem,
    platform_verifier_key,
)
from audit.trust import PolicyError, trust_from_text
from config.errors import NotFoundError

_MAX_SIZE = 2**62


class Allowed(BasePermission):
    """Passes when the policy rule `action` (accounts.policy) allows the user."""

    action = ""

    def has_permission(self, request, view) -> bool:
        return can(request.user, self.action)


class CanViewProofs(Allowed):
    action = "audit.view_proofs"


class CanViewEvents(Allowed):
    action = "audit.view_events"


class PlainTextRenderer(BaseRenderer):
    """Checkpoint notes are text/plain; errors stay JSON."""

    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Any = None) -> bytes:
        if isinstance(data, str):
            return data.encode("utf-8")
        return JSONRenderer().render(data)


def _note_response(checkpoint: Checkpoint) -> HttpResponse:
    return HttpResponse(checkpoint.note.encode("utf-8"), content_type="text/plain; charset=utf-8")


# --- Serializers ----------------------------------------------------------------------

class PublicKeyOutput(serializers.Serializer):
    algorithm = serializers.CharField()
    origin = serializers.CharField(help_text="checkpoint origin line and signed-note key name")
    public_key = serializers.CharField(help_text="raw 32-byte Ed25519 public key, base64")
    public_key_pem = serializers.CharField(help_text="SubjectPublicKeyInfo PEM")
    key_id = serializers.CharField(help_text="hex SHA-256 of the SubjectPublicKeyInfo DER (receipts)")
    verifier_key = serializers.CharField(help_text="C2SP signed-note verifier key <name>+<hash>+<base64>")


class CheckpointOutput(serializers.ModelSerializer):
    class Meta:
        model = Checkpoint
        fields = ["tree_size", "root_hash", "note", "created_at"]


class InclusionInput(serializers.Serializer):
    seq = serializers.IntegerField(min_value=1, max_value=_MAX_SIZE)
    tree_size = serializers.IntegerField(min_value=1, max_value=_MAX_SIZE, required=False,
                                         help_text="default: the latest checkpoint's size")


class InclusionOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    leaf_index = serializers.IntegerField(help_text="seq - 1")
    tree_size = serializers.IntegerField()
    leaf_hash = serializers.CharField()
    hashes = serializers.ListField(child=serializers.CharField(), help_text="RFC 6962 audit path, hex")
    root_hash = serializers.CharField()
    checkpoint = serializers.CharField(allow_null=True, help_text="signed note of this tree size, if kept")


class ConsistencyInput(serializers.Serializer):
    first = serializers.IntegerField(min_value=0, max_value=_MAX_SIZE)
    second = serializers.IntegerField(min_value=0, max_value=_MAX_SIZE, required=False,
                                      help_text="default: the latest checkpoint's size")


class ConsistencyOutput(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    hashes = serializers.ListField(child=serializers.CharField(), help_text="RFC 6962 consistency proof, hex")
    first_root = serializers.CharField()
    second_root = serializers.CharField()
    first_checkpoint = serializers.CharField(allow_null=True)
    second_checkpoint = serializers.CharField(allow_null=True)


class EventFilter(serializers.Serializer):
    tender = serializers.RegexField(r"^[A-Za-z0-9_.-]{1,64}$", required=False)
    action = serializers.CharField(max_length=100, required=False)
    object = serializers.CharField(max_length=200, required=False)


class EventOutput(serializers.ModelSerializer):
    ts = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["seq", "ts", "actor", "action", "object", "data", "prev", "hash"]

    def get_ts(self, event: AuditEvent) -> str:
        return format_timestamp(event.ts)


class ExportInput(serializers.Serializer):
    tender = serializers.RegexField(r"^[A-Za-z0-9_.-]{1,64}$", required=False)
    consistency_from = serializers.IntegerField(min_value=0, max_value=_MAX_SIZE, required=False)


def _parse(serializer_class: type[serializers.Serializer], request) -> dict:
    data = serializer_class(data=request.query_params)
    data.is_valid(raise_exception=True)
    return data.validated_data


def _note(checkpoint: Checkpoint | None) -> str | None:
    return checkpoint.note if checkpoint is not None else None


# --- Public views -----------------------------------------------------------------------

class PublicKeyView(APIView):
    """The platform's Ed25519 public key: checks checkpoints and signed receipts."""

    permission_classes = [CanViewProofs]

    @extend_schema(responses=PublicKeyOutput)
    def get(self, request):
        return Response(PublicKeyOutput({
            "algorithm": "Ed25519", "origin": note_key_name(), "public_key": platform_public_key_b64(),
            "public_key_pem": platform_public_key_pem(), "key_id": platform_key_id(),
            "verifier_key": platform_verifier_key()}).data)


class CheckpointLatestView(APIView):
    """The latest signed checkpoint (C2SP tlog-checkpoint signed note), text/plain."""

    permission_classes = [CanViewProofs]
    renderer_classes = [JSONRenderer, PlainTextRenderer]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR,
                              404: OpenApiResponse(description="no checkpoint yet")})
    def get(self, request):
        checkpoint = checkpoints.checkpoint_latest()
        if checkpoint is None:
            raise NotFoundError("No audit checkpoint has been made yet.")
        return _note_response(checkpoint)


class CheckpointDetailView(APIView):
    """The kept checkpoint of one tree size, text/plain."""

    permission_classes = [CanViewProofs]
    renderer_classes = [JSONRenderer, PlainTextRenderer]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request, tree_size: int):
        checkpoint = checkpoints.checkpoint_at(tree_size)
        if checkpoint is None:
            raise NotFoundError(f"No checkpoint was made at tree size {tree_size}.")
        return _note_response(checkpoint)


class CheckpointListView(generics.ListAPIView):
    """Every kept checkpoint, newest first."""

    permission_classes = [CanViewProofs]
    serializer_class = CheckpointOutput

    def get_queryset(self):
        return Checkpoint.objects.order_by("-tree_size")


class InclusionProofView(APIView):
    """RFC 6962 inclusion proof of event `seq` in the tree of `tree_size` leaves."""

    permission_classes = [CanViewProofs]

    @extend_schema(parameters=[InclusionInput], responses=InclusionOutput)
    def get(self, request):
        params = _parse(InclusionInput, request)
        proof = checkpoints.inclusion_proof(seq=params["seq"], tree_size=params.get("tree_size"))
        return Response(InclusionOutput({
            "seq": proof.seq, "leaf_index": proof.leaf_index, "tree_size": proof.tree_size,
            "leaf_hash": proof.leaf_hash.hex(), "hashes": [h.hex() for h in proof.hashes],
            "root_hash": proof.root.hex(), "checkpoint": _note(proof.checkpoint)}).data)


class ConsistencyProofView(APIView):
    """RFC 6962 consistency proof between the trees of sizes `first` and `second`."""

    permission_classes = [CanViewProofs]

    @extend_schema(parameters=[ConsistencyInput], responses=ConsistencyOutput)
    def get(self, request):
        params = _parse(ConsistencyInput, request)
        proof = checkpoints.consistency_proof(first=params["first"], second=params.get("second"))
        return Response(ConsistencyOutput({
            "first": proof.first, "second": proof.second, "hashes": [h.hex() for h in proof.hashes],
            "first_root": proof.first_root.hex(), "second_root": proof.second_root.hex(),
            "first_checkpoint": _note(proof.first_checkpoint),
            "second_checkpoint": _note(proof.second_checkpoint)}).data)


# --- Supervisor views ---------------------------------------------------------------------

class EventListView(generics.ListAPIView):
    """Audit events in seq order; filter by tender, action or object (supervisors)."""

    permission_classes = [IsAuthenticated, CanViewEvents]
    serializer_class = EventOutput

    @extend_schema(parameters=[EventFilter])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = _parse(EventFilter, self.request)
        events = export.tender_events(params["tender"]) if "tender" in params else AuditEvent.objects.all()
        if "action" in params:
            events = events.filter(action=params["action"])
        if "object" in params:
            events = events.filter(object=params["object"])
        return events.order_by("seq")


class EventDetailView(APIView):
    """One audit event (supervisors)."""

    permission_classes = [IsAuthenticated, CanViewEvents]

    @extend_schema(responses=EventOutput)
    def get(self, request, seq: int):
        event = AuditEvent.objects.filter(seq=seq).first()
        if event is None:
            raise NotFoundError(f"No audit event {seq}.")
        return Response(EventOutput(event).data)


class ExportView(APIView):
    """Export bundle (JSON Lines) of the whole log or one tender, for the offline verifier
    (supervisors). Signs a checkpoint of the current log first if it grew."""

    permission_classes = [IsAuthenticated, CanViewEvents]

    @extend_schema(parameters=[ExportInput], responses={(200, "application/x-ndjson"): OpenApiTypes.STR})
    def get(self, request):
        params = _parse(ExportInput, request)
        bundle = export.bundle_prepare(tender=params.get("tender"),
                                       consistency_from=params.get("consistency_from"))
        response = StreamingHttpResponse(bundle.chunks(), content_type="application/x-ndjson; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{bundle.filename}"'
        return response


# --- Supervisor replay, live supervision, collusion signals (docs/audit.md) ---------------------------

class ReplayInput(serializers.Serializer):
    at = serializers.IntegerField(min_value=1, max_value=_MAX_SIZE, required=False,
                                  help_text="seq of the event to show the state at (default: the last shown)")
    actor = serializers.CharField(max_length=64, required=False, help_text="only events by this actor")
    kind = serializers.RegexField(r"^[a-z][a-z0-9_.]{0,99}$", required=False,
                                  help_text='only events of this kind ("objection") or action ("objection.raised")')
    events = serializers.BooleanField(required=False, default=True, help_text="include the timeline")
    checkpoint = serializers.CharField(required=False, default="", max_length=4000, trim_whitespace=False,
                                       help_text="a checkpoint note you hold: every event fails if the log "
                                                 "is shorter than it or does not extend it")
    witness = serializers.ListField(child=serializers.CharField(max_length=1000), required=False, default=list,
                                    max_length=20, help_text="trusted witness verifier keys (repeat the parameter)")
    quorum = serializers.IntegerField(min_value=1, max_value=20, required=False,
                                      help_text="cosignatures required from those witnesses (default 1); the "
                                                "result is checkpoint.witnessed")


class ReplayOutput(serializers.Serializer):
    tender = serializers.CharField()
    total = serializers.IntegerField(help_text="events of the tender")
    failed = serializers.IntegerField(help_text="events failing a check")
    at = serializers.IntegerField(allow_null=True)
    filters = serializers.DictField()
    actors = serializers.ListField(child=serializers.CharField())
    kinds = serializers.ListField(child=serializers.CharField())
    checkpoint = serializers.DictField(help_text="{tree_size, root_hash, signature_ok, problem, held: [{label, "
                                                 "tree_size, ok, problem}] (the checkpoints you gave), witnessed: "
                                                 "{ok, witnesses, problem, policy} or null (your witness keys)}")
    selected = serializers.DictField(allow_null=True)
    neighbours = serializers.DictField(help_text="seqs of the first, previous, next and last shown events")
    state = serializers.DictField(help_text="the tender as rebuilt from its events up to `at`")
    summary = serializers.DictField()
    events = serializers.ListField(child=serializers.DictField(), required=False,
                                   help_text="{seq, ts, actor, action, kind, object, data, prev, hash, "
                                             "interpreted, verification: {ok, status, leaf, link, inclusion, "
                                             "problems}}")


class TenderReplayView(APIView):
    """One tender's audit trail replayed: each event checked (leaf hash, chain link, inclusion in
    the latest signed checkpoint) and the tender's state rebuilt from the events up to `at`
    (supervisors)."""

    permission_classes = [IsAuthenticated, CanViewEvents]

    @extend_schema(parameters=[ReplayInput], responses=ReplayOutput)
    def get(self, request, tender: int):
        from audit.replay import tender_replay

        params = _parse(ReplayInput, request)
        try:
            policy = trust_from_text(checkpoint=params["checkpoint"], witnesses=params["witness"],
                                     quorum=params.get("quorum"))
        except PolicyError as exc:
            raise ValidationError({"witness": [str(exc)]}) from exc
        replay = tender_replay(tender=tender, at=params.get("at"), actor=params.get("actor", ""),
                               kind=params.get("kind", ""), policy=policy)
        return Response(replay.as_dict(with_events=params["events"]))


class CanViewSupervision(Allowed):
    action = "supervision.view"


class CanViewCollusion(Allowed):
    action = "collusion.view"


class SupervisionOverviewOutput(serializers.Serializer):
    rooms = serializers.ListField(child=serializers.DictField())
    draws = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.DictField(),
                                     help_text="{key, level: red|yellow, kind, tender, tender_code, subject, "
                                               "due_at, detail}")
    counts = serializers.DictField()
    computed_at = serializers.CharField()


class SupervisionOverviewView(APIView):
    """Active opening rooms, draws in progress and red/yellow warnings, computed now (supervisors).
    The live version is the WebSocket /ws/supervision/."""

    permission_classes = [IsAuthenticated, CanViewSupervision]

    @extend_schema(responses=SupervisionOverviewOutput)
    def get(self, request):
        from audit.supervision import supervision_overview

        return Response(supervision_overview())


class CollusionSignalOutput(serializers.Serializer):
    kind = serializers.CharField()
    severity = serializers.CharField()
    lot = serializers.IntegerField(allow_null=True)
    bidders = serializers.ListField(child=serializers.IntegerField())
    evidence = serializers.DictField()


class CollusionRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    computed_at = serializers.DateTimeField()
    trigger = serializers.CharField()
    actor = serializers.CharField()
    sources = serializers.DictField()
    counts = serializers.DictField()
    evidence_sha256 = serializers.CharField()
    audit_seq = serializers.IntegerField(allow_null=True)
    signals = CollusionSignalOutput(many=True, source="signals.all")


def _tender_or_404(pk: int):
    from trading.models import Tender

    tender = Tender.objects.filter(pk=pk).first()
    if tender is None:
        raise NotFoundError(f"No tender {pk}.")
    return tender


class TenderCollusionView(APIView):
    """GET: the latest collusion check of a tender with its signals and their evidence.
    POST: compute the signals now (after the bid deadline). Supervisors only."""

    permission_classes = [IsAuthenticated, CanViewCollusion]

    @extend_schema(responses=CollusionRunOutput)
    def get(self, request, tender: int):
        from audit.collusion import collusion_latest

        tender_obj = _tender_or_404(tender)
        run = collusion_latest(tender_id=tender_obj.pk)
        if run is None:
            raise NotFoundError(f"Tender {tender} has not been checked yet.")
        return Response(CollusionRunOutput(run).data)

    @extend_schema(request=None, responses={201: CollusionRunOutput})
    def post(self, request, tender: int):
        from accounts.policy import authorize
        from audit.collusion import collusion_check

        tender_obj = _tender_or_404(tender)
        authorize(request.user, "collusion.compute", tender_obj)
        run = collusion_check(actor=request.user, tender=tender_obj, trigger="supervisor")
        return Response(CollusionRunOutput(run).data, status=201)


class SignalConfirmInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class SignalConfirmOutput(serializers.Serializer):
    records = serializers.ListField(child=serializers.CharField(), help_text="numbers of the proposed credit records")


class CollusionSignalConfirmView(APIView):
    """POST: a supervisor confirms a collusion signal after investigation; a bad-conduct record is proposed
    for each bidder it names (docs/credit.md)."""

    permission_classes = [IsAuthenticated, CanViewCollusion]

    @extend_schema(request=SignalConfirmInput, responses={201: SignalConfirmOutput})
    def post(self, request, signal: int):
        from audit.collusion import collusion_signal_confirm
        from audit.models import CollusionSignal

        row = CollusionSignal.objects.select_related("run").filter(pk=signal).first()
        if row is None:
            raise NotFoundError(f"No collusion signal {signal}.")
        data = SignalConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        records = collusion_signal_confirm(actor=request.user, signal=row, reason=data.validated_data["reason"])
        return Response({"records": [r.number for r in records]}, status=201)


# --- Receipts a holder can prove alone (docs/audit.md, "Receipts") ----------------------------------

class SignedReceiptOutput(serializers.Serializer):
    receipt = serializers.DictField(help_text="the receipt's fields (canonical JSON object), with receipt_id, "
                                              "audit_origin, audit_seq and audit_leaf_hash")
    signature = serializers.CharField(help_text="base64 Ed25519 signature over the canonical JSON of `receipt`")
    key_id = serializers.CharField(help_text="hex SHA-256 of the platform key's SubjectPublicKeyInfo DER")


class ReceiptProofOutput(serializers.Serializer):
    receipt = SignedReceiptOutput()
    event = serializers.CharField(help_text="the event's canonical JSON: SHA-256(0x00 || its UTF-8 bytes) is "
                                            "receipt.audit_leaf_hash")
    leaf_index = serializers.IntegerField(help_text="audit_seq - 1")
    tree_size = serializers.IntegerField()
    inclusion = serializers.ListField(child=serializers.CharField(), help_text="RFC 6962 audit path, hex, "
                                                                              "from the leaf upwards")
    checkpoint = serializers.CharField(help_text="the signed checkpoint note of tree_size (C2SP signed note; "
                                                 "witness cosignature lines included when present)")


class ReceiptProofView(APIView):
    """A receipt with its event, inclusion proof and signed checkpoint, for its holder only
    (404 for a receipt that is not yours or does not exist). Check it offline with
    `ptrade_receipt_verify.py` and the platform's public key."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ReceiptProofOutput, 401: OpenApiResponse(description="not signed in"),
                              404: OpenApiResponse(description="no such receipt of yours"),
                              409: OpenApiResponse(description="audit_log_inconsistent")},
                   summary="Prove my receipt: event, inclusion proof, checkpoint")
    def get(self, request, receipt_id: str):
        from audit.receipts import receipt_proof

        return Response(ReceiptProofOutput(receipt_proof(user=request.user, receipt_id=receipt_id)).data)


# --- Public feed of witnessed checkpoints (docs/witness.md, "Public anchoring") --------------------

class WitnessedCheckpointOutput(serializers.Serializer):
    origin = serializers.CharField()
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="hex")
    witnesses = serializers.ListField(child=serializers.CharField(), help_text="key names of the cosigners")
    published_at = serializers.DateTimeField(help_text="when the quorum-th cosignature arrived")
    witnessed_checkpoint = serializers.CharField(
        help_text="the checkpoint note: platform signature line, then each witness's cosignature line")


class WitnessedCheckpointListView(generics.ListAPIView):
    """Every checkpoint cosigned by the quorum of witnesses, oldest first (append-only feed);
    anonymous. `?after=<tree size>` lists only later ones."""

    permission_classes = [CanViewProofs]
    serializer_class = WitnessedCheckpointOutput

    def get_queryset(self):
        from audit.witnessing import published_checkpoints

        qs = published_checkpoints().prefetch_related("cosignatures")
        after = self.request.query_params.get("after", "")
        if after:
            if not after.isdigit() or len(after) > 18:
                raise ValidationError({"after": ["a tree size (non-negative integer)"]})
            qs = qs.filter(tree_size__gt=int(after))
        return qs

    def list(self, request, *args, **kwargs):
        from audit.witnessing import published_entry

        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WitnessedCheckpointOutput([published_entry(c) for c in page],
                                                                     many=True).data)


class WitnessedCheckpointLatestView(APIView):
    """The latest witnessed checkpoint note, text/plain (404 before the first one)."""

    permission_classes = [CanViewProofs]
    renderer_classes = [JSONRenderer, PlainTextRenderer]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR,
                              404: OpenApiResponse(description="no witnessed checkpoint yet")})
    def get(self, request):
        from audit.witnessing import latest_published, witnessed_note

        checkpoint = latest_published()
        if checkpoint is None:
            raise NotFoundError("No checkpoint has been cosigned by the witness quorum yet.")
        return HttpResponse(witnessed_note(checkpoint).encode("utf-8"), content_type="text/plain; charset=utf-8")
