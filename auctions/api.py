"""REST API of the auctions app under /api/v1/auctions (docs/auctions.md, "API"). Thin views:
parse with an input serializer, call one service or selector, render with an output serializer."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from accounts.policy import authorize
from auctions import opendata, selectors
from auctions import serializers as s
from auctions.confirmation import confirmation_pdf
from auctions.models import Buyer, Confirmation
from auctions.replay import replay_trade
from auctions.services import bidding, buyers, ending, trades
from audit.canonical import format_timestamp
from config.errors import DomainError, NotFoundError
from config.parsers import StrictJSONParser
from trading.deposits import bankmsg
from trading.deposits.services.bank import bank_verify
from trading.ocds.mapping import request_context

ERRORS = {
    400: OpenApiResponse(description="Invalid input or a legal rule refused it (the message names it)"),
    403: OpenApiResponse(description="Not permitted"),
    404: OpenApiResponse(description="Not found"),
    409: OpenApiResponse(description="Not possible in the current state"),
}
IDEMPOTENCY = OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                               description="Up to 64 characters; a repeated request returns the bid it placed.")
TAGS = ["auctions"]


def _valid(serializer_class, data):
    ser = serializer_class(data=data)
    ser.is_valid(raise_exception=True)
    return ser.validated_data


def _trade(request, pk, action="auction.view"):
    return selectors.trade_get(user=request.user, public_id=pk, action=action)


def _out(trade) -> dict:
    return s.AuctionTradeOutput(selectors.trade_public(trade)).data


@extend_schema(tags=TAGS)
class TradeListView(APIView):
    permission_classes = [AllowAny]
    parser_classes = [StrictJSONParser]

    @extend_schema(responses={200: s.AuctionTradeOutput(many=True)}, summary="Trades you may see (published, or yours)")
    def get(self, request):
        return Response([_out(t) for t in selectors.trades_visible(user=request.user)[:200]])

    @extend_schema(request=s.AuctionTradeCreateInput, responses={201: s.AuctionTradeOutput, **ERRORS},
                   summary="Create a draft trade (agent); its opening key is made at once")
    def post(self, request):
        if not request.user.is_authenticated:
            raise DomainError(_("Log in first."), code="not_authenticated", status=401)
        data = _valid(s.AuctionTradeCreateInput, request.data)
        transferor = Organisation.objects.filter(pk=data.pop("transferor")).first()
        if transferor is None:
            raise DomainError(_("No such organisation."), fields={"transferor": ["unknown"]})
        trade = trades.trade_create(actor=request.user, transferor=transferor, **data)
        return Response(_out(trade), status=201)


@extend_schema(tags=TAGS)
class TradeDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.AuctionTradeOutput, 404: ERRORS[404]},
                   summary="One trade (the reserve is null until unsealed after the end)")
    def get(self, request, pk):
        return Response(_out(_trade(request, pk)))


@extend_schema(tags=TAGS)
class ResultsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.AuctionTradeOutput(many=True)}, summary="Published results (public)")
    def get(self, request):
        return Response([_out(t) for t in selectors.results_public()[:200]])


@extend_schema(tags=["open data"])
class OcdsResultsView(APIView):
    """Every published result as one OCDS 1.1 release package (public, no login)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.OcdsAuctionPackageOutput}, operation_id="auctions_ocds_results",
                   summary="OCDS 1.1 release package of every published auction result")
    def get(self, request):
        package = opendata.results_package(selectors.results_public().select_related("relisted_from"),
                                           uri=request.build_absolute_uri(), ctx=request_context(request))
        return Response(s.OcdsAuctionPackageOutput(package).data)


@extend_schema(tags=["open data"])
class OcdsTradeView(APIView):
    """One trade's result as an OCDS 1.1 release package (public, no login; 404 until published)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.OcdsAuctionPackageOutput, 404: ERRORS[404]}, operation_id="auctions_ocds_trade",
                   summary="OCDS 1.1 release package of one trade's published result (404 before)")
    def get(self, request, pk):
        trade = selectors.result_published_get(public_id=pk)
        package = opendata.results_package([trade], uri=request.build_absolute_uri(), ctx=request_context(request))
        return Response(s.OcdsAuctionPackageOutput(package).data)


class _Post(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [StrictJSONParser]


@extend_schema(tags=TAGS)
class ReserveView(_Post):
    @extend_schema(request=s.AuctionSealedReserveInput, responses={200: s.AuctionTradeOutput, **ERRORS},
                   summary="Store the reserve the transferor sealed to the trade's opening key")
    def post(self, request, pk):
        data = _valid(s.AuctionSealedReserveInput, request.data)
        return Response(_out(trades.trade_reserve_seal(actor=request.user, trade=_trade(request, pk),
                                                       sealed=data["sealed"])))


@extend_schema(tags=TAGS)
class PublishView(_Post):
    @extend_schema(request=None, responses={200: s.AuctionTradeOutput, **ERRORS},
                   summary="Publish the notice (refusals name their legal source)")
    def post(self, request, pk):
        return Response(_out(trades.trade_publish(actor=request.user, trade=_trade(request, pk))))


@extend_schema(tags=TAGS)
class IncrementView(_Post):
    @extend_schema(request=s.AuctionIncrementInput, responses={200: s.AuctionTradeOutput, **ERRORS},
                   summary="Change the increment (agent; before the start or during the listing; audited)")
    def post(self, request, pk):
        data = _valid(s.AuctionIncrementInput, request.data)
        return Response(_out(trades.trade_increment_change(actor=request.user, trade=_trade(request, pk), **data)))


@extend_schema(tags=TAGS)
class RelistView(_Post):
    @extend_schema(request=s.AuctionRelistInput, responses={201: s.AuctionTradeOutput, **ERRORS},
                   summary="Relist a trade that did not sell, with a lower start price (a new draft)")
    def post(self, request, pk):
        data = _valid(s.AuctionRelistInput, request.data)
        return Response(_out(trades.trade_relist(actor=request.user, trade=_trade(request, pk), **data)), status=201)


@extend_schema(tags=TAGS)
class ResultPublishView(_Post):
    @extend_schema(request=None, responses={200: s.AuctionTradeOutput, **ERRORS}, summary="Publish the result (agent)")
    def post(self, request, pk):
        return Response(_out(ending.result_publish(actor=request.user, trade=_trade(request, pk))))


@extend_schema(tags=TAGS)
class ApplicationsView(_Post):
    @extend_schema(responses={200: s.AuctionApplicationOutput(many=True), **ERRORS},
                   summary="Applications (agent: names without numbers; supervisors: both)")
    def get(self, request, pk):
        trade = _trade(request, pk)
        authorize(request.user, "auction.view_buyers", trade)
        rows = selectors.buyers_for(user=request.user, trade=trade)
        return Response(s.AuctionApplicationOutput(rows, many=True).data)

    @extend_schema(request=s.AuctionApplyInput, responses={201: s.AuctionBuyerOutput, **ERRORS},
                   summary="Apply to buy (竞买申请) with the documents' names, sizes and SHA-256")
    def post(self, request, pk):
        data = _valid(s.AuctionApplyInput, request.data)
        buyer = buyers.buyer_apply(actor=request.user, trade=_trade(request, pk),
                                   documents=[dict(d) for d in data["documents"]])
        return Response(s.AuctionBuyerOutput(selectors.buyer_view(buyer)).data, status=201)


def _own_buyer(request, trade) -> Buyer:
    buyer = selectors.buyer_of(user=request.user, trade=trade)
    if buyer is None:
        raise NotFoundError(_("Your organisation has not applied to this trade."))
    return buyer


@extend_schema(tags=TAGS)
class MyApplicationView(_Post):
    @extend_schema(responses={200: s.AuctionBuyerOutput, **ERRORS},
                   summary="Your application: status, bidder number, deposit sub-account")
    def get(self, request, pk):
        return Response(s.AuctionBuyerOutput(selectors.buyer_view(_own_buyer(request, _trade(request, pk)))).data)


@extend_schema(tags=TAGS)
class ReviewView(_Post):
    @extend_schema(request=s.AuctionReviewInput, responses={200: s.AuctionApplicationOutput, **ERRORS},
                   summary="Qualification review of one application (agent)")
    def post(self, request, pk, buyer_id):
        trade = _trade(request, pk)
        buyer = Buyer.objects.filter(trade=trade, public_id=buyer_id).first()
        if buyer is None:
            raise NotFoundError(_("No such application."))
        data = _valid(s.AuctionReviewInput, request.data)
        buyers.buyer_review(actor=request.user, buyer=buyer, **data)
        row = next(r for r in selectors.buyers_for(user=request.user, trade=trade) if r["id"] == str(buyer.public_id))
        return Response(s.AuctionApplicationOutput(row).data)


@extend_schema(tags=TAGS)
class LiveRoundView(_Post):
    @extend_schema(request=s.AuctionLiveRoundInput, responses={200: s.AuctionBuyerOutput, **ERRORS},
                   summary="Ask to go on to a timed round at the end of the listing")
    def post(self, request, pk):
        trade = _trade(request, pk)
        data = _valid(s.AuctionLiveRoundInput, request.data)
        buyer = buyers.buyer_live_round_declare(actor=request.user, buyer=_own_buyer(request, trade), **data)
        return Response(s.AuctionBuyerOutput(selectors.buyer_view(buyer)).data)


def bid_output(result: bidding.BidResult) -> dict:
    bid = result.bid
    return s.AuctionBidOutput({"seq": bid.seq, "number": bid.buyer.number, "amount": str(bid.amount),
                               "phase": bid.phase,
                        "accepted_at": format_timestamp(bid.accepted_at),
                        "ends_at": format_timestamp(bid.ends_at) if bid.ends_at else None,
                        "replayed": result.replayed, "receipt": result.receipt, "receipt_id": bid.receipt_id}).data


@extend_schema(tags=TAGS)
class BidView(_Post):
    @extend_schema(request=s.AuctionBidInput, parameters=[IDEMPOTENCY],
                   responses={201: s.AuctionBidOutput, 200: s.AuctionBidOutput, **ERRORS},
                   summary="Place a bid (listing quote or timed round); the server's clock decides")
    def post(self, request, pk):
        trade = _trade(request, pk)
        data = _valid(s.AuctionBidInput, request.data)
        result = bidding.bid_place(actor=request.user, buyer=_own_buyer(request, trade), amount=data["amount"],
                                   idempotency_key=request.headers.get("Idempotency-Key", ""))
        return Response(bid_output(result), status=200 if result.replayed else 201)


@extend_schema(tags=TAGS)
class RoomView(_Post):
    @extend_schema(responses={200: s.AuctionRoomOutput, **ERRORS}, summary="The live room's snapshot as you may see it")
    def get(self, request, pk):
        trade = _trade(request, pk, "auction.room")
        bidding.trade_advance(trade=trade)
        last_id, state = selectors.room_snapshot(user=request.user, trade=trade)
        return Response({"last_id": last_id, "state": state})


@extend_schema(tags=TAGS)
class RoomEventsView(_Post):
    @extend_schema(parameters=[OpenApiParameter("since", int, required=True)],
                   responses={200: s.AuctionEventsOutput, **ERRORS}, summary="Room events after an id")
    def get(self, request, pk):
        trade = _trade(request, pk, "auction.room")
        try:
            since = max(0, int(request.query_params.get("since", "0")))
        except ValueError:
            raise DomainError(_("since must be an integer"), fields={"since": ["not an integer"]}) from None
        return Response({"events": selectors.room_events(trade=trade, since=since)})


@extend_schema(tags=TAGS)
class ShareView(_Post):
    @extend_schema(request=s.AuctionShareInput, responses={200: s.AuctionTradeOutput, **ERRORS},
                   summary="Release your custodian share of the reserve's key (only after bidding closed)")
    def post(self, request, pk):
        data = _valid(s.AuctionShareInput, request.data)
        return Response(_out(ending.share_release(actor=request.user, trade=_trade(request, pk),
                                                  share=data["share"])))


def _confirmation(request, pk) -> Confirmation:
    trade = _trade(request, pk)
    conf = Confirmation.objects.filter(trade=trade).select_related("buyer").first()
    if conf is None:
        raise NotFoundError(_("No confirmation for this trade."))
    authorize(request.user, "auction.confirmation", trade)
    return conf


@extend_schema(tags=TAGS)
class ConfirmationView(_Post):
    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT, **ERRORS},
                   summary="The signed confirmation (成交确认书): {receipt, signature, key_id}")
    def get(self, request, pk):
        conf = _confirmation(request, pk)
        response = HttpResponse(json.dumps(conf.signed, ensure_ascii=False), content_type="application/json")
        response["X-Confirmation-SHA256"] = conf.sha256
        return response


@extend_schema(tags=TAGS)
class ConfirmationPdfView(_Post):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
                   summary="The confirmation as PDF")
    def get(self, request, pk):
        conf = _confirmation(request, pk)
        response = HttpResponse(confirmation_pdf(conf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="confirmation-{conf.document["code"]}.pdf"'
        return response


@extend_schema(tags=TAGS)
class ReplayView(_Post):
    @extend_schema(responses={200: s.AuctionReplayOutput, **ERRORS},
                   summary="Replay the trade from its audit events (supervisors)")
    def get(self, request, pk):
        trade = _trade(request, pk)
        authorize(request.user, "auction.supervise", trade)
        r = replay_trade(trade)
        return Response(s.AuctionReplayOutput({"ok": r.ok, "price": str(r.price) if r.price is not None else None,
                                        "number": r.number, "bids": r.bids,
                                        "reserve": str(r.reserve) if r.reserve is not None else None,
                                        "outcome": r.outcome, "recorded_outcome": r.recorded_outcome,
                                        "problems": r.problems}).data)


@extend_schema(tags=["auctions: bank"])
class BankArrivalView(APIView):
    """The bank reports a deposit arrival on a buyer's virtual sub-account (HMAC as trading/deposits)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT},
                   parameters=[OpenApiParameter(bankmsg.TIMESTAMP_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                                                required=True),
                               OpenApiParameter(bankmsg.SIGNATURE_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                                                required=True)],
                   responses={200: OpenApiTypes.OBJECT, 400: ERRORS[400], 401: OpenApiResponse(description="bad "
                              "signature"), 404: ERRORS[404]},
                   summary='Deposit arrival {"account","amount","payer_account","txn_id"} (signed like deposits)')
    def post(self, request):
        bank_verify(body=request.body, timestamp=request.headers.get(bankmsg.TIMESTAMP_HEADER),
                    signature=request.headers.get(bankmsg.SIGNATURE_HEADER))
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in
                                                 ("account", "amount", "payer_account", "txn_id")):
            raise DomainError(_("Send account, amount, payer_account and txn_id as strings."), code="invalid")
        arrival = buyers.deposit_arrival_book(account_number=body["account"], amount=body["amount"],
                                              payer_account=body["payer_account"], txn_id=body["txn_id"])
        return Response({"txn_id": arrival.txn_id, "booked": str(arrival.amount)})
