"""Deposits API under /api/v1/deposits/ (thin views: parse, call one service or selector, render).

The bank is no user: its two endpoints (notifications, refund export) authenticate by
HMAC-SHA256 over the raw body and a timestamp (trading/deposits/bankmsg.py). Every
other endpoint uses the platform's token or session authentication and the policy rules.
"""

from __future__ import annotations

import json
from uuid import UUID

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.policy import authorize, can
from config.api import ERRORS, validated
from config.errors import DomainError, NotFoundError
from config.parsers import StrictFormParser, StrictJSONParser, StrictMultiPartParser
from trading import selectors as trading_selectors
from trading.deposits import bankmsg, selectors
from trading.deposits import serializers as s
from trading.deposits.services.accounts import deposit_account_open
from trading.deposits.services.bank import bank_notification_receive, bank_refund_export, bank_verify
from trading.deposits.services.guarantees import guarantee_issuer_add, guarantee_issuer_revoke, guarantee_submit
from trading.deposits.services.instructions import (
    deposit_warning_acknowledge,
    refund_instruction_reissue,
    refund_instructions_export,
)
from trading.deposits.services.statements import statement_import
from trading.deposits.services.suspense import suspense_resolve
from trading.models.deposit import BankTransaction, DepositWarning, GuaranteeIssuer, RefundInstruction
from trading.services.deposit_hook import deposit_instructions

BANK_HEADERS = [
    OpenApiParameter(bankmsg.TIMESTAMP_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                     description="Unix time (seconds) when the bank signed; ±300 s of the server's clock."),
    OpenApiParameter(bankmsg.SIGNATURE_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                     description='"v1=" + hex HMAC-SHA256(secret, timestamp + "." + raw body).'),
]
BANK_ERRORS = {
    400: OpenApiResponse(description="Malformed message"),
    401: OpenApiResponse(description="Signature missing, forged or stale"),
    409: OpenApiResponse(description="Replayed message, or a txn_id reported before with other content"),
}


def _bank_headers(request) -> tuple[str | None, str | None]:
    return request.headers.get(bankmsg.TIMESTAMP_HEADER), request.headers.get(bankmsg.SIGNATURE_HEADER)


# --- the bank --------------------------------------------------------------------------------------------


@extend_schema(tags=["deposits: bank"])
class BankNotificationView(APIView):
    """The bank's arrival and refund notifications (webhook)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=BANK_HEADERS,
        responses={200: s.BookResultOutput, **BANK_ERRORS},
        summary="Report a deposit arrival or a refund execution (HMAC-signed)",
        description="Idempotent on txn_id: the same transaction twice is booked once (result 'duplicate'). "
        "See docs/deposits.md for the body and the signature.",
    )
    def post(self, request):
        timestamp, signature = _bank_headers(request)
        result = bank_notification_receive(body=request.body, timestamp=timestamp, signature=signature)
        return Response(s.BookResultOutput(result).data)


@extend_schema(tags=["deposits: bank"])
class BankRefundExportView(APIView):
    """The bank fetches the open refund instructions with a signed request (no user account)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=BANK_HEADERS,
        responses={200: OpenApiTypes.OBJECT, **BANK_ERRORS},
        summary='Open refund instructions for the bank (signed body {"request": "refund_instructions"})',
    )
    def post(self, request):
        timestamp, signature = _bank_headers(request)
        verified = bank_verify(body=request.body, timestamp=timestamp, signature=signature)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("request") != "refund_instructions":
            raise DomainError('The signed body must be {"request": "refund_instructions"}.', code="invalid_request")
        rows = bank_refund_export(verified=verified)
        return Response({"count": len(rows), "instructions": rows})


# --- bidders ---------------------------------------------------------------------------------------------


@extend_schema(tags=["deposits"])
class MyAccountsView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.AccountOutput

    def get_queryset(self):
        authorize(self.request.user, "deposit.bidder")
        return selectors.accounts_for_user(self.request.user).filter(bidder_id=self.request.user.organisation_id)

    @extend_schema(summary="My organisation's deposit sub-accounts")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _account_detail(request, account):
    data = s.AccountOutput(account).data
    data["entries"] = s.EntryOutput(selectors.ledger_for(user=request.user, account=account), many=True).data
    data["instructions"] = s.InstructionOutput(
        selectors.instructions_for_account(user=request.user, account=account), many=True
    ).data
    data["receipts"] = selectors.receipts_for_account(user=request.user, account=account)
    return data


@extend_schema(tags=["deposits"])
class AccountDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.AccountDetailOutput, 404: ERRORS[404]},
                   summary="A sub-account: status, ledger, refunds (sealed until the deadline)")
    def get(self, request, pk: UUID):
        account = selectors.account_get(user=request.user, public_id=pk)
        return Response(_account_detail(request, account))


@extend_schema(tags=["deposits"])
class RegistrationDepositView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **ERRORS},
                   summary="A registration's deposit: payment instructions and the sub-account")
    def get(self, request, pk: UUID):
        # 404 alike for "does not exist" and "not yours" (docs/tendering.md, "Public identifiers").
        registration = trading_selectors.registration_get(user=request.user, public_id=pk)
        account = deposit_account_open(registration=registration)
        if not can(request.user, "deposit.view_account", account):
            raise NotFoundError(_("No such registration."))
        instructions = deposit_instructions(registration)
        instructions["amount"] = str(instructions["amount"])
        return Response({"instructions": instructions, "account": _account_detail(request, account)})


@extend_schema(tags=["deposits"])
class GuaranteeView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [StrictJSONParser, StrictMultiPartParser, StrictFormParser]

    @extend_schema(request=s.GuaranteeInput, responses={201: s.GuaranteeOutput, **ERRORS},
                   summary="Lodge an electronic guarantee letter (电子保函) instead of cash")
    def post(self, request, pk: UUID):
        account = selectors.account_get(user=request.user, public_id=pk)
        data = validated(s.GuaranteeInput, request.data)
        letter = guarantee_submit(actor=request.user, account=account, document=data["document"])
        return Response(s.GuaranteeOutput(letter).data, status=201)


# --- the tender's list (sealed) --------------------------------------------------------------------------


@extend_schema(tags=["deposits"])
class TenderDepositsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.DepositRowOutput(many=True), **ERRORS},
                   summary="Deposit status of every registration (sealed until the bid deadline)")
    def get(self, request, pk: int):
        tender = trading_selectors.tender_get(user=request.user, pk=pk)
        rows = selectors.deposit_list_for_tender(user=request.user, tender=tender)
        return Response(s.DepositRowOutput(rows, many=True).data)


# --- platform administrator -------------------------------------------------------------------------------


@extend_schema(tags=["deposits: admin"])
class SuspenseListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.SuspenseOutput

    def get_queryset(self):
        return selectors.suspense_list(user=self.request.user)

    @extend_schema(summary="Unidentified bank transactions (suspense list)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["deposits: admin"])
class SuspenseResolveView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.SuspenseResolveInput, responses={200: s.SuspenseOutput, **ERRORS},
                   summary="Return a suspense payment, assign it to a sub-account, or close it")
    def post(self, request, pk: int):
        authorize(request.user, "deposit.admin")
        txn = BankTransaction.objects.filter(pk=pk).first()
        if txn is None:
            raise NotFoundError(_("No such bank transaction."))
        data = validated(s.SuspenseResolveInput, request.data)
        txn = suspense_resolve(actor=request.user, txn=txn, **data)
        return Response(s.SuspenseOutput(txn).data)


@extend_schema(tags=["deposits: admin"])
class StatementListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.StatementOutput
    parser_classes = [StrictMultiPartParser, StrictFormParser]

    def get_queryset(self):
        return selectors.statements_for(user=self.request.user)

    @extend_schema(summary="Imported bank statements")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": s.StatementInput}, responses={201: s.StatementOutput, **ERRORS},
                   summary="Import the bank's daily statement (CSV)")
    def post(self, request):
        authorize(request.user, "deposit.admin")
        data = validated(s.StatementInput, request.data)
        statement = statement_import(actor=request.user, data=data["file"], file_name=data["file"].name)
        return Response(s.StatementOutput(statement).data, status=201)


@extend_schema(tags=["deposits: admin"])
class ReconciliationView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.ReconciliationOutput, **ERRORS},
                   summary="Statement vs ledger: duplicated, missing and mismatched lines")
    def get(self, request, pk: int):
        statement = selectors.statement_get(user=request.user, pk=pk)
        report = selectors.reconciliation_for(user=request.user, statement=statement)
        return Response(s.ReconciliationOutput(report).data)


@extend_schema(tags=["deposits: admin"])
class RefundInstructionListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.InstructionOutput

    def get_queryset(self):
        status = self.request.query_params.get("status")
        return selectors.refund_instructions_for(user=self.request.user, statuses=[status] if status else None)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "mask": selectors.instruction_is_sealed}

    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR)],
                   summary="Refund instructions (payees of sealed tenders masked)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["deposits: admin"])
class RefundExportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={(200, "text/csv"): OpenApiTypes.STR, **ERRORS},
                   summary="Export the open refund instructions for the bank (CSV); marks them sent")
    def post(self, request):
        _rows, text = refund_instructions_export(actor=request.user)
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="refund-instructions.csv"'
        return response


@extend_schema(tags=["deposits: admin"])
class RefundReissueView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.ReissueInput, responses={201: s.InstructionOutput, **ERRORS},
                   summary="Instruct a failed refund again")
    def post(self, request, reference: str):
        authorize(request.user, "deposit.admin")
        instruction = RefundInstruction.objects.filter(reference=reference).first()
        if instruction is None:
            raise NotFoundError(_("No such refund instruction."))
        data = validated(s.ReissueInput, request.data)
        new = refund_instruction_reissue(actor=request.user, instruction=instruction, **data)
        return Response(s.InstructionOutput(new).data, status=201)


@extend_schema(tags=["deposits: admin"])
class IssuerListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.IssuerOutput

    def get_queryset(self):
        authorize(self.request.user, "deposit.admin")
        return GuaranteeIssuer.objects.order_by("name", "pk")

    @extend_schema(summary="Guarantee issuers whose keys the platform trusts")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=s.IssuerInput, responses={201: s.IssuerOutput, **ERRORS}, summary="Trust an issuer key")
    def post(self, request):
        data = validated(s.IssuerInput, request.data)
        issuer = guarantee_issuer_add(actor=request.user, **data)
        return Response(s.IssuerOutput(issuer).data, status=201)


@extend_schema(tags=["deposits: admin"])
class IssuerRevokeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.IssuerOutput, **ERRORS}, summary="Stop trusting an issuer key")
    def post(self, request, pk: int):
        authorize(request.user, "deposit.admin")
        issuer = GuaranteeIssuer.objects.filter(pk=pk).first()
        if issuer is None:
            raise NotFoundError(_("No such issuer."))
        return Response(s.IssuerOutput(guarantee_issuer_revoke(actor=request.user, issuer=issuer)).data)


# --- supervisors ----------------------------------------------------------------------------------------------


@extend_schema(tags=["deposits: supervision"])
class WarningListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.WarningOutput

    def get_queryset(self):
        return selectors.warnings_for(user=self.request.user,
                                      open_only=self.request.query_params.get("open") in ("1", "true"))

    @extend_schema(parameters=[OpenApiParameter("open", OpenApiTypes.BOOL)],
                   summary="Overdue and failed refunds (red warnings)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["deposits: supervision"])
class WarningAcknowledgeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.WarningOutput, **ERRORS}, summary="Acknowledge a warning")
    def post(self, request, pk: int):
        authorize(request.user, "deposit.supervise")
        warning = DepositWarning.objects.filter(pk=pk).first()
        if warning is None:
            raise NotFoundError(_("No such warning."))
        return Response(s.WarningOutput(deposit_warning_acknowledge(actor=request.user,
                                                                             warning=warning)).data)
