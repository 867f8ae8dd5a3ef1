"""Credit API under /api/v1/credit/ (docs/credit.md, "API")."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from accounts.policy import authorize
from config.api import DefaultPagination
from config.errors import DomainError
from credit import selectors, services
from credit.models import CreditRequest, RecordStatus
from credit.serializers import (
    CreditDecideInput,
    CreditProposeInput,
    CreditRecordDetailOutput,
    CreditRecordOutput,
    CreditRequestDecideInput,
    CreditRequestInput,
    CreditRequestOutput,
)


def _valid(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


class RecordListView(APIView):
    """Query the published records (anyone) by organisation name or USCC (`q`); supervisors see every
    record and may filter by `status`."""

    permission_classes = [AllowAny]
    pagination_class = DefaultPagination

    @extend_schema(request=CreditProposeInput, responses={201: CreditRecordDetailOutput},
                   summary="A supervisor proposes a record the platform did not see by itself (e.g. false "
                           "documents found in evaluation, expert misconduct), with audit events as evidence")
    def post(self, request):
        authorize(request.user, "credit.decide")
        data = _valid(CreditProposeInput, request)
        org = None
        if data["organisation"] is not None:
            org = Organisation.objects.filter(pk=data["organisation"]).first()
            if org is None:
                raise DomainError(_("No such organisation."), fields={"organisation": ["unknown"]})
        record = services.record_propose(
            kind=data["kind"], organisation=org, expert_id=data["expert"], expert_name=data["expert_name"],
            facts=data["facts"], evidence_seqs=data["evidence"], source_ref=data["source_ref"],
            proposed_by=request.user)
        return Response(CreditRecordDetailOutput(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("q", str), OpenApiParameter("status", str, enum=RecordStatus.values)],
                   responses=CreditRecordOutput(many=True))
    def get(self, request):
        qs = selectors.records_for(request.user, q=request.query_params.get("q", ""),
                                   status=request.query_params.get("status", ""))
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CreditRecordOutput(page, many=True).data)


class RecordDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=CreditRecordDetailOutput)
    def get(self, request, number: str):
        return Response(CreditRecordDetailOutput(selectors.record_get(request.user, number)).data)


class RecordDecideView(APIView):
    """A supervisor publishes or rejects a proposed record."""

    @extend_schema(request=CreditDecideInput, responses=CreditRecordDetailOutput)
    def post(self, request, number: str):
        record = selectors.record_get(request.user, number)
        data = _valid(CreditDecideInput, request)
        record = services.record_decide(actor=request.user, record=record, **data)
        return Response(CreditRecordDetailOutput(record).data)


class RecordRequestView(APIView):
    """The organisation a record is about appeals it or asks for its repair (信用修复)."""

    @extend_schema(request=CreditRequestInput, responses={201: CreditRequestOutput})
    def post(self, request, number: str):
        record = selectors.record_get(request.user, number)
        data = _valid(CreditRequestInput, request)
        made = services.request_submit(actor=request.user, record=record, **data)
        return Response(CreditRequestOutput(made).data, status=status.HTTP_201_CREATED)


class RequestDecideView(APIView):
    """A supervisor grants or refuses an appeal or a repair."""

    @extend_schema(request=CreditRequestDecideInput, responses=CreditRequestOutput)
    def post(self, request, pk: int):
        made = get_object_or_404(CreditRequest.objects.select_related("record"), pk=pk)
        selectors.record_get(request.user, made.record.number)
        data = _valid(CreditRequestDecideInput, request)
        return Response(CreditRequestOutput(services.request_decide(actor=request.user, request=made, **data)).data)
