"""Supervision API under /api/v1/audit/ (docs/audit.md, "Live supervision", "Collusion signals"):
the live dashboard's overview and a tender's collusion signals, supervisors only. The paths keep
their /audit/ prefix from when this lived in the audit app (the OpenAPI document is unchanged).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.policy import authorize
from audit.api import Allowed
from config.api import validated
from config.errors import NotFoundError
from supervision.collusion import collusion_check, collusion_latest, collusion_signal_confirm
from supervision.live import supervision_overview
from supervision.models import CollusionSignal
from trading.models import Tender


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


def _tender_or_404(pk: int) -> Tender:
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
        tender_obj = _tender_or_404(tender)
        run = collusion_latest(tender_id=tender_obj.pk)
        if run is None:
            raise NotFoundError(f"Tender {tender} has not been checked yet.")
        return Response(CollusionRunOutput(run).data)

    @extend_schema(request=None, responses={201: CollusionRunOutput})
    def post(self, request, tender: int):
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
        row = CollusionSignal.objects.select_related("run").filter(pk=signal).first()
        if row is None:
            raise NotFoundError(f"No collusion signal {signal}.")
        data = validated(SignalConfirmInput, request.data)
        records = collusion_signal_confirm(actor=request.user, signal=row, reason=data["reason"])
        return Response({"records": [r.number for r in records]}, status=201)
