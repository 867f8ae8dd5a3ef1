"""Sealed-bid API (/api/v1/): keys, opening keys, bid upload (streamed), receipts, withdrawal, shares.

The upload endpoint is a plain Django view, not DRF: DRF parsers (and `request.body`)
would buffer the body in memory, and DATA_UPLOAD_MAX_MEMORY_SIZE is 5 MB. It reads the
body from the request stream in chunks (`bid_upload`). Token-authenticated requests
(`Authorization: Token …`, the CLI) need no CSRF token; browser (session) uploads must
send the CSRF token in the `X-CSRFToken` header.

The upload also records where it came from, for the supervisors' collusion signals: the client
IP as django-axes resolves it for the login lock-out (REMOTE_ADDR unless the settings configure a
proxy: `AXES_CLIENT_IP_CALLABLE` / `AXES_IPWARE_*`; X-Forwarded-For is never read otherwise), the
User-Agent and the optional `X-Device-Fingerprint` header; `submission` normalises and stores them.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck, get_authorization_header
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

import sbe1
from accounts.tokens import HashedTokenAuthentication
from config.api import error_body, validated
from config.clientip import client_ip
from config.errors import DomainError, NotFoundError
from trading import selectors
from trading.bids import keys as key_services
from trading.bids import serializers as s
from trading.bids import storage, submission
from trading.models import KeyShare, OpeningKey

# --- the upload endpoint (plain Django view) --------------------------------------------------


def _json_error(code: str, message: str, status: int, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status, json_dumps_params={"ensure_ascii": False})


def _authenticate(request):
    """(user, None) or (None, error response). Token auth, else the session with a CSRF check."""
    header = get_authorization_header(request).split()
    if header and header[0].lower() == b"token":
        try:
            result = HashedTokenAuthentication().authenticate(request)
        except exceptions.AuthenticationFailed as exc:
            return None, _json_error("authentication_failed", str(exc.detail), 401)
        return (result[0], None) if result else (None, _json_error("not_authenticated", "No token.", 401))
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None, _json_error("not_authenticated", _("Authentication credentials were not provided."), 401)
    check = CSRFCheck(lambda _request: None)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        return None, _json_error("csrf_failed", _("CSRF check failed: send the X-CSRFToken header."), 403)
    return user, None


def _content_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def upload_body_gate(request, tender_id: int, lot_id: int):
    """Run by config/bodylimit.py on the headers alone, before the body is read: the same
    authentication and cheap checks as the view (`upload_precheck`). A refusal (401/403/404/409/
    411/413/415 JSON) is answered without reading the body; a pass returns the lot's size limit."""
    user, error = _authenticate(request)
    if error is not None:
        return error
    try:
        lot = selectors.lot_get(user=user, pk=lot_id)
        if lot.tender_id != tender_id:
            raise NotFoundError(_("Lot %(lot)s is not a lot of tender %(t)s.") % {"lot": lot_id, "t": tender_id})
        content_type = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip()
        if content_type != "application/octet-stream":
            raise DomainError(_("Send the envelope as the raw body, Content-Type application/octet-stream."),
                              code="unsupported_media_type", status=415)
        submission.upload_precheck(actor=user, lot=lot, content_length=_content_length(request),
                                   signature=request.META.get("HTTP_X_ENVELOPE_SIGNATURE"))
    except DomainError as exc:
        return _json_error(exc.code, exc.message, exc.status, exc.fields)
    return int(lot.max_envelope_bytes)


@extend_schema(exclude=True)
@csrf_exempt
def bid_upload_view(request, tender_id: int, lot_id: int):
    """POST: upload an envelope (raw body, application/octet-stream, X-Envelope-Signature: base64 r||s).
    GET: your organisation's bids for this lot (newest first)."""
    if request.method not in ("GET", "POST"):
        return _json_error("method_not_allowed", _("Use GET or POST."), 405)
    user, error = _authenticate(request)
    if error is not None:
        return error
    try:
        lot = selectors.lot_get(user=user, pk=lot_id)
        if lot.tender_id != tender_id:
            raise NotFoundError(_("Lot %(lot)s is not a lot of tender %(t)s.") % {"lot": lot_id, "t": tender_id})
        if request.method == "GET":
            bids = submission.bids_of_org(org_id=user.organisation_id, lot=lot) if user.organisation_id else []
            return JsonResponse({"results": [s.BidOutput(b).data for b in bids]})
        content_type = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip()
        if content_type != "application/octet-stream":
            raise DomainError(_("Send the envelope as the raw body, Content-Type application/octet-stream."),
                              code="unsupported_media_type", status=415)
        bid = submission.bid_upload(
            actor=user, lot=lot, stream=request, content_length=_content_length(request),
            signature=request.META.get("HTTP_X_ENVELOPE_SIGNATURE"),
            upload_ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT"),
            device_fingerprint=request.META.get("HTTP_X_DEVICE_FINGERPRINT"),
        )
    except DomainError as exc:
        return _json_error(exc.code, exc.message, exc.status, exc.fields)
    return JsonResponse(s.BidOutput(bid).data, status=201)


# --- keys ---------------------------------------------------------------------------------------


@extend_schema(tags=["sealed bids"])
class KeyListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.KeyOutput(many=True)}, summary="Your organisation's and your own public keys")
    def get(self, request):
        return Response(s.KeyOutput(key_services.keys_of(user=request.user), many=True).data)

    @extend_schema(request=s.KeyInput, responses={201: s.KeyOutput}, summary="Register a P-256 public key (SPKI)")
    def post(self, request):
        data = validated(s.KeyInput, request.data)
        key = key_services.key_register(actor=request.user, **data)
        return Response(s.KeyOutput(key).data, status=201)


@extend_schema(tags=["sealed bids"])
class KeyRevokeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.KeyOutput}, summary="Revoke a key")
    def post(self, request, pk: int):
        key = key_services.key_get(user=request.user, pk=pk)
        return Response(s.KeyOutput(key_services.key_revoke(actor=request.user, key=key)).data)


@extend_schema(tags=["sealed bids"])
class LotOpeningKeyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.OpeningKeyOutput}, summary="The lot's opening public key (seal to it)")
    def get(self, request, pk: int):
        lot = selectors.lot_get(user=request.user, pk=pk)
        key = OpeningKey.objects.filter(lot=lot).first()
        if key is None:
            raise NotFoundError(_("This lot has no opening key yet (it is made when the tender is published)."))
        return Response(s.OpeningKeyOutput(key).data)


# --- bids ---------------------------------------------------------------------------------------


@extend_schema(tags=["sealed bids"])
class MyBidListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.BidOutput(many=True)}, summary="Your organisation's bids with receipts")
    def get(self, request):
        if not request.user.organisation_id:
            return Response([])
        return Response(s.BidOutput(submission.bids_of_org(org_id=request.user.organisation_id), many=True).data)


@extend_schema(tags=["sealed bids"])
class BidDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.BidOutput}, summary="One bid and its signed receipt")
    def get(self, request, pk: UUID):
        return Response(s.BidOutput(submission.bid_get(user=request.user, public_id=pk)).data)


@extend_schema(tags=["sealed bids"])
class BidWithdrawView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.WithdrawOutput}, summary="Withdraw before the deadline (撤回)")
    def post(self, request, pk: UUID):
        bid = submission.bid_get(user=request.user, public_id=pk)
        receipt = submission.bid_withdraw(actor=request.user, bid=bid)
        bid.refresh_from_db()
        return Response(s.WithdrawOutput({"bid": bid, "receipt": receipt}).data)


@extend_schema(tags=["sealed bids"])
class BidHeaderView(APIView):
    """The stored envelope's magic and header line (no ciphertext): the browser unwraps its DEK from it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, summary="Envelope header")
    def get(self, request, pk: UUID):
        bid = submission.bid_get(user=request.user, public_id=pk)
        with storage.path_of(bid.storage_name).open("rb") as f:
            header = sbe1.read_header(f)
        return HttpResponse(sbe1.MAGIC + header.line, content_type="application/octet-stream")


# --- custodian shares ----------------------------------------------------------------------------


@extend_schema(tags=["sealed bids"])
class MyShareListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("tender", int, required=False)],
        responses={200: s.ShareOutput(many=True)},
        summary="Custodian: my encrypted shares of opening keys",
    )
    def get(self, request):
        shares = KeyShare.objects.filter(custodian=request.user).select_related("opening_key", "custodian_key")
        if request.query_params.get("tender"):
            try:
                shares = shares.filter(opening_key__tender_id=int(request.query_params["tender"]))
            except ValueError:
                raise DomainError(_("tender must be an id"), fields={"tender": ["not an integer"]}) from None
        return Response(s.ShareOutput(shares.order_by("-pk")[:200], many=True).data)
