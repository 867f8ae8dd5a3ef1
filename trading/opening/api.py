"""Opening API (/api/v1/tenders/<id>/opening…): the room over HTTP, for scripts and the record.

The same commands as the WebSocket room (trading/opening/commands.py); the snapshot and
events are those the consumer sends (event ids, redacted placeholders).
"""

from __future__ import annotations

from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from config.parsers import StrictJSONParser
from trading.opening import selectors
from trading.opening.commands import COMMANDS, opening_command
from trading.opening.record import record_pdf_path


class SnapshotOutput(serializers.Serializer):
    last_id = serializers.IntegerField()
    state = serializers.JSONField()


class EventsOutput(serializers.Serializer):
    events = serializers.JSONField()


class CommandInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=sorted(COMMANDS))
    bid = serializers.IntegerField(required=False)
    dek = serializers.CharField(required=False)
    text = serializers.CharField(required=False)
    objection = serializers.IntegerField(required=False)
    answer = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)
    share = serializers.JSONField(required=False)


@extend_schema(tags=["opening"])
class RoomView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: SnapshotOutput}, summary="The room snapshot as you may see it")
    def get(self, request, pk: int):
        tender = selectors.room_tender(user=request.user, pk=pk)
        last_id, state = selectors.room_snapshot(user=request.user, tender=tender)
        return Response({"last_id": last_id, "state": state})


@extend_schema(tags=["opening"])
class RoomEventsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[OpenApiParameter("since", int, required=True)], responses={200: EventsOutput},
                   summary="Room events after an id (redacted placeholders keep ids gapless)")
    def get(self, request, pk: int):
        tender = selectors.room_tender(user=request.user, pk=pk)
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            raise DomainError("since must be an integer", fields={"since": ["not an integer"]}) from None
        return Response({"events": selectors.room_events(user=request.user, tender=tender, since=max(0, since))})


@extend_schema(tags=["opening"])
class RoomCommandView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [StrictJSONParser]  # commands are JSON objects; a form body is 415 (docs/api.md)

    @extend_schema(request=CommandInput, responses={200: OpenApiTypes.OBJECT},
                   summary="Run a room command (sign_in, release_dek, confirm, raise_objection, …)")
    def post(self, request, pk: int):
        tender = selectors.room_tender(user=request.user, pk=pk)
        if not isinstance(request.data, dict):
            raise DomainError("send a JSON object", code="invalid")
        return Response(opening_command(user=request.user, tender=tender, content=dict(request.data)))


@extend_schema(tags=["opening"])
class RecordView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT},
                   summary="The opening record, canonical JSON (its SHA-256 is in the audit chain)")
    def get(self, request, pk: int):
        tender = selectors.room_tender(user=request.user, pk=pk)
        opening = selectors.record_get(user=request.user, tender=tender)
        response = HttpResponse(opening.record_json.encode("utf-8"), content_type="application/json; charset=utf-8")
        response["X-Record-SHA256"] = opening.record_sha256
        return response


@extend_schema(tags=["opening"])
class RecordPdfView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY}, summary="The opening record as PDF")
    def get(self, request, pk: int):
        tender = selectors.room_tender(user=request.user, pk=pk)
        opening = selectors.record_get(user=request.user, tender=tender)
        response = FileResponse(record_pdf_path(opening).open("rb"), content_type="application/pdf",
                                filename=f"opening-record-{tender.code}.pdf")
        response["X-Record-PDF-SHA256"] = opening.record_pdf_sha256
        return response
