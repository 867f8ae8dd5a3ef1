"""Expert API under /api/v1/ (experts/urls.py): the pool, draws, the expert's calls, the gateway webhook."""

from __future__ import annotations

import json

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation, User
from accounts.policy import authorize, can
from config.api import DefaultPagination, error_body, validated
from config.errors import DomainError, NotFoundError, NotPermitted
from experts import selectors
from experts.identity import gateway_secret
from experts.models import Assignment, Draw, DrawWarning, Expert
from experts.notify.webhook import HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookRejected, verify
from experts.publication import draw_public_record
from experts.replay import draw_replay
from experts.serializers import (
    DrawRecordOutput,
    DrawWarningOutput,
    ExpertAssignmentOutput,
    ExpertDrawListOutput,
    ExpertDrawOutput,
    ExpertDrawRequestInput,
    ExpertEmploymentInput,
    ExpertInput,
    ExpertLeaveInput,
    ExpertOutput,
    ExpertRelativeInput,
    ExpertSpecialtyOutput,
    ExpertsReasonInput,
    ExpertStatusInput,
    ExpertUpdateInput,
    GatewayInboundInput,
)
from experts.services import draws as draw_services
from experts.services import pool as pool_services
from experts.services.replies import reply_receive
from trading.models import Lot


def _paginated(request, view, queryset, serializer_class, **kwargs):
    paginator = DefaultPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, **kwargs).data)


def _org(pk: int | None, field: str) -> Organisation | None:
    if pk is None:
        return None
    org = Organisation.objects.filter(pk=pk).first()
    if org is None:
        raise DomainError(_("No organisation %(n)s.") % {"n": pk}, fields={field: ["unknown"]})
    return org


def _user(pk: int | None) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise DomainError(_("No user %(n)s.") % {"n": pk}, fields={"user": ["unknown"]})
    return user


# --- pool ----------------------------------------------------------------------------------

class SpecialtyListView(APIView):
    """The specialty code list (hierarchical codes, category for the two-thirds rule)."""

    @extend_schema(responses=ExpertSpecialtyOutput(many=True))
    def get(self, request):
        return Response(ExpertSpecialtyOutput(selectors.specialties(), many=True).data)


class PoolView(APIView):
    """The pool: platform operators manage it; nobody lists it while a draw is in progress, except
    supervisors; agents, tenderers and bidders never."""

    pagination_class = DefaultPagination  # _paginated(): the schema documents the page object

    @extend_schema(parameters=[OpenApiParameter("search", str), OpenApiParameter("specialty", str),
                               OpenApiParameter("status", str), OpenApiParameter("region", str)],
                   responses=ExpertOutput(many=True))
    def get(self, request):
        if not can(request.user, "expert_pool.browse"):
            if can(request.user, "expert_pool.manage"):
                raise NotPermitted(_("The expert pool cannot be browsed while a draw is in progress "
                                   "(招标投标法实施条例 Art 46)."), code="draw_in_progress")
            raise NotPermitted(_("You are not allowed to see the expert pool."))
        params = request.query_params
        qs = selectors.pool_list(search=params.get("search", ""), specialty=params.get("specialty", ""),
                                 status=params.get("status", ""), region=params.get("region", ""))
        return _paginated(request, self, qs, ExpertOutput)

    @extend_schema(request=ExpertInput, responses={201: ExpertOutput})
    def post(self, request):
        authorize(request.user, "expert_pool.manage")
        data = validated(ExpertInput, request.data)
        data["employer"] = _org(data.pop("employer"), "employer")
        data["user"] = _user(data.pop("user"))
        expert = pool_services.expert_create(actor=request.user, **data)
        return Response(ExpertOutput(expert).data, status=status.HTTP_201_CREATED)


class ExpertDetailView(APIView):
    def _get(self, request, pk) -> Expert:
        if not can(request.user, "expert_pool.browse"):
            raise NotPermitted(_("You may not see the expert pool now."), code="draw_in_progress"
                               if can(request.user, "expert_pool.manage") else "permission_denied")
        return get_object_or_404(Expert, pk=pk)

    @extend_schema(responses=ExpertOutput)
    def get(self, request, pk: int):
        return Response(ExpertOutput(self._get(request, pk)).data)

    @extend_schema(request=ExpertUpdateInput, responses=ExpertOutput)
    def patch(self, request, pk: int):
        authorize(request.user, "expert_pool.manage")
        expert = get_object_or_404(Expert, pk=pk)
        data = validated(ExpertUpdateInput, request.data)
        if "employer" in data:
            data["employer"] = _org(data["employer"], "employer")
        if "user" in data:
            data["user"] = _user(data["user"])
        expert = pool_services.expert_update(actor=request.user, expert=expert, **data)
        if not can(request.user, "expert_pool.browse"):
            return Response({"id": expert.pk})
        return Response(ExpertOutput(expert).data)


class ExpertStatusView(APIView):
    @extend_schema(request=ExpertStatusInput, responses=inline_serializer("ExpertStatusOutput", {
        "id": serializers.IntegerField(), "status": serializers.CharField()}))
    def post(self, request, pk: int):
        authorize(request.user, "expert_pool.manage")
        expert = get_object_or_404(Expert, pk=pk)
        data = validated(ExpertStatusInput, request.data)
        expert = pool_services.expert_set_status(actor=request.user, expert=expert, **data)
        return Response({"id": expert.pk, "status": expert.status})


_CREATED = inline_serializer("ExpertFactCreated", {"id": serializers.IntegerField()})


class ExpertEmploymentView(APIView):
    @extend_schema(request=ExpertEmploymentInput, responses={201: _CREATED})
    def post(self, request, pk: int):
        authorize(request.user, "expert_pool.manage")
        expert = get_object_or_404(Expert, pk=pk)
        data = validated(ExpertEmploymentInput, request.data)
        data["organisation"] = _org(data["organisation"], "organisation")
        row = pool_services.expert_employment_add(actor=request.user, expert=expert, **data)
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)


class ExpertRelativeView(APIView):
    @extend_schema(request=ExpertRelativeInput, responses={201: _CREATED})
    def post(self, request, pk: int):
        authorize(request.user, "expert_pool.manage")
        expert = get_object_or_404(Expert, pk=pk)
        data = validated(ExpertRelativeInput, request.data)
        data["organisation"] = _org(data["organisation"], "organisation")
        row = pool_services.expert_relative_add(actor=request.user, expert=expert, **data)
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)


class ExpertLeaveView(APIView):
    """Operators record leaves; an expert may record their own (`experts/me/leaves`)."""

    @extend_schema(request=ExpertLeaveInput, responses={201: _CREATED})
    def post(self, request, pk: int | None = None):
        if pk is None:
            expert = selectors.expert_for_user(request.user)
            if expert is None:
                raise NotPermitted(_("You are not an expert of the pool."))
        else:
            authorize(request.user, "expert_pool.manage")
            expert = get_object_or_404(Expert, pk=pk)
        data = validated(ExpertLeaveInput, request.data)
        row = pool_services.expert_leave_add(actor=request.user, expert=expert, **data)
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)


# --- the expert's calls ------------------------------------------------------------------------

class InboxView(APIView):
    """The signed-in expert's own calls and seats."""

    pagination_class = DefaultPagination  # _paginated(): the schema documents the page object

    @extend_schema(responses=ExpertAssignmentOutput(many=True))
    def get(self, request):
        return _paginated(request, self, selectors.inbox_for(request.user), ExpertAssignmentOutput)


def _own_assignment(request, pk: int) -> Assignment:
    assignment = get_object_or_404(Assignment.objects.select_related("draw__tender", "draw__lot", "expert", "line"),
                                   pk=pk)
    if not can(request.user, "assignment.view", assignment):
        raise NotPermitted(_("This is not your assignment."))
    return assignment


class AssignmentView(APIView):
    @extend_schema(responses=ExpertAssignmentOutput)
    def get(self, request, pk: int):
        return Response(ExpertAssignmentOutput(_own_assignment(request, pk)).data)


class AssignmentAnswerView(APIView):
    decision = "accept"

    @extend_schema(request=None, responses=ExpertAssignmentOutput)
    def post(self, request, pk: int):
        assignment = _own_assignment(request, pk)
        draw_services.assignment_respond(actor=request.user, assignment=assignment,
                                         accept=self.decision == "accept", via="api")
        return Response(ExpertAssignmentOutput(_own_assignment(request, pk)).data)


class AssignmentAcceptView(AssignmentAnswerView):
    decision = "accept"


class AssignmentDeclineView(AssignmentAnswerView):
    decision = "decline"


class AssignmentLeaveView(APIView):
    @extend_schema(request=ExpertsReasonInput, responses=ExpertAssignmentOutput)
    def post(self, request, pk: int):
        assignment = _own_assignment(request, pk)
        reason = validated(ExpertsReasonInput, request.data)["reason"] or "left"
        draw_services.assignment_leave(actor=request.user, assignment=assignment, reason=reason)
        return Response(ExpertAssignmentOutput(_own_assignment(request, pk)).data)


class AssignmentNoShowView(APIView):
    """A supervisor records that an accepted expert did not appear: the seat is refilled and a bad-conduct
    record is proposed (docs/credit.md)."""

    @extend_schema(request=ExpertsReasonInput, responses=ExpertAssignmentOutput)
    def post(self, request, pk: int):
        assignment = _own_assignment(request, pk)
        note = validated(ExpertsReasonInput, request.data)["reason"]
        draw_services.assignment_no_show(actor=request.user, assignment=assignment, note=note)
        return Response(ExpertAssignmentOutput(_own_assignment(request, pk)).data)


class GatewayInboundView(APIView):
    """Replies from the SMS/voice gateway: HMAC-signed (X-Ptrade-Timestamp, X-Ptrade-Signature over
    "<timestamp>." + body), within EXPERTS_GATEWAY_MAX_SKEW seconds, each message id once."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=GatewayInboundInput, responses=inline_serializer("GatewayInboundOutput", {
        "message": serializers.IntegerField(), "outcome": serializers.CharField()}))
    def post(self, request):
        body = request._request.body
        try:
            verify(gateway_secret(), body, request.headers.get(HEADER_TIMESTAMP), request.headers.get(HEADER_SIGNATURE))
        except WebhookRejected as exc:
            return Response(error_body("bad_signature", _("Webhook refused: %(r)s.") % {"r": exc.reason}), status=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return Response(error_body("invalid", _("The body is not JSON.")), status=400)
        v = validated(GatewayInboundInput, payload if isinstance(payload, dict) else {})
        inbound = reply_receive(message_id=v["id"], channel=v["channel"], sender=v["from"], text=v["text"],
                                ref=v["ref"])
        return Response({"message": inbound.pk, "outcome": inbound.outcome})


# --- draws --------------------------------------------------------------------------------------

def _draw(request, pk: int) -> Draw:
    draw = get_object_or_404(Draw.objects.select_related("tender", "lot"), pk=pk)
    authorize(request.user, "draw.view", draw)
    return draw


def _draw_output(request, draw: Draw) -> dict:
    view = selectors.draw_view(request.user, draw)
    return ExpertDrawOutput(view, context={"supervise": can(request.user, "draw.supervise", draw)}).data


class DrawListView(APIView):
    """Agents request a draw for a lot of their tender; the list shows the user's draws."""

    pagination_class = DefaultPagination  # _paginated(): the schema documents the page object

    @extend_schema(responses=ExpertDrawListOutput(many=True))
    def get(self, request):
        return _paginated(request, self, selectors.draws_for(request.user), ExpertDrawListOutput)

    @extend_schema(request=ExpertDrawRequestInput, responses={201: ExpertDrawOutput})
    def post(self, request):
        data = validated(ExpertDrawRequestInput, request.data)
        lot = Lot.objects.select_related("tender").filter(pk=data.pop("lot")).first()
        if lot is None:
            raise DomainError(_("No such lot."), fields={"lot": ["unknown"]})
        authorize(request.user, "draw.create", lot.tender)
        draw = draw_services.draw_start(actor=request.user, lot=lot, **data)
        return Response(_draw_output(request, draw), status=status.HTTP_201_CREATED)


class DrawDetailView(APIView):
    @extend_schema(responses=ExpertDrawOutput)
    def get(self, request, pk: int):
        return Response(_draw_output(request, _draw(request, pk)))


class DrawCancelView(APIView):
    @extend_schema(request=ExpertsReasonInput, responses=ExpertDrawOutput)
    def post(self, request, pk: int):
        draw = _draw(request, pk)
        reason = validated(ExpertsReasonInput, request.data)["reason"]
        draw = draw_services.draw_cancel(actor=request.user, draw=draw, reason=reason)
        return Response(_draw_output(request, draw))


class DrawRevealView(APIView):
    """Reveal the panel (normally called by the evaluation sign-in; supervisors may trigger it)."""

    @extend_schema(request=None, responses=inline_serializer("DrawRevealOutput", {
        "revealed": serializers.BooleanField(), "removed": serializers.IntegerField()}))
    def post(self, request, pk: int):
        outcome = draw_services.panel_reveal(actor=request.user, draw=_draw(request, pk))
        return Response({"revealed": outcome.revealed, "removed": outcome.removed})


class DrawRevealSeedView(APIView):
    @extend_schema(request=None, responses=ExpertDrawOutput)
    def post(self, request, pk: int):
        draw = draw_services.draw_reveal_seed(actor=request.user, draw=_draw(request, pk))
        return Response(_draw_output(request, draw))


class DrawReplayView(APIView):
    """Replay the draw: supervisors any time (with the sealed seed before the reveal), the tender's
    parties once the seed is revealed."""

    @extend_schema(responses=inline_serializer("DrawReplayOutput", {
        "ok": serializers.BooleanField(), "seed_source": serializers.CharField(),
        "problems": serializers.ListField(child=serializers.CharField()),
        "rows": serializers.ListField(child=serializers.DictField())}))
    def get(self, request, pk: int):
        draw = _draw(request, pk)
        authorize(request.user, "draw.replay", draw)
        result = draw_replay(draw, require_revealed=not can(request.user, "draw.supervise", draw))
        identities = can(request.user, "draw.view_panel", draw)
        return Response({"ok": result.ok, "seed_source": result.seed_source, "problems": result.problems,
                         "rows": [{"seq": r.seq, "line": r.line, "position": r.position,
                                   "expert": r.stored if identities else None, "match": r.ok, "status": r.status,
                                   "skip_reason": r.skip_reason, "seat": r.seat} for r in result.rows]})


class DrawRecordView(APIView):
    """The public record of a draw once its panel is revealed: seed, commit event with its inclusion proof,
    pool snapshot, sequence and members; enough to re-run the draw offline (ptrade_draw_verify.py).
    404 while the draw is sealed."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: DrawRecordOutput,
                              404: OpenApiResponse(description="no such draw, or not published yet")},
                   summary="Public draw record (re-run the draw)")
    def get(self, request, pk: int):
        draw = Draw.objects.filter(pk=pk).select_related("tender", "lot").first()
        if draw is None or not can(request.user, "draw.view_record", draw):
            raise NotFoundError(_("No published draw record with this id (a record is published when the panel "
                                  "is revealed)."))
        return Response(DrawRecordOutput(draw_public_record(draw)).data)


class WarningListView(APIView):
    pagination_class = DefaultPagination  # _paginated(): the schema documents the page object

    @extend_schema(responses=DrawWarningOutput(many=True))
    def get(self, request):
        authorize(request.user, "draw.supervise")
        return _paginated(request, self, selectors.warnings_open(), DrawWarningOutput)


class WarningAcknowledgeView(APIView):
    @extend_schema(request=None, responses=DrawWarningOutput)
    def post(self, request, pk: int):
        authorize(request.user, "draw.supervise")
        warning = get_object_or_404(DrawWarning.objects.select_related("draw"), pk=pk)
        return Response(DrawWarningOutput(draw_services.warning_acknowledge(actor=request.user, warning=warning)).data)
