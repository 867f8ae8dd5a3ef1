"""Fixed-price comparison API under /api/v1/fixed-price/ (docs/smallworks.md, "API")."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from accounts.policy import authorize, can
from config.api import ERRORS
from config.errors import DomainError, NotFoundError
from smallworks import services
from smallworks.models import Entry, Objection, Pick, Project, ProjectStatus, SupervisionWarning
from smallworks.opendata import project_package, published_projects
from smallworks.publication import drawing_public_record
from smallworks.selectors import drawing_of
from smallworks.serializers import (
    FixedPriceDrawingRecordOutput,
    FixedPriceEntryCreatedOutput,
    FixedPriceEntryInput,
    FixedPriceEntryOutput,
    FixedPriceExclusionOutput,
    FixedPriceObjectionInput,
    FixedPriceObjectionOutput,
    FixedPriceObjectionReplyInput,
    FixedPriceOcdsPackageOutput,
    FixedPricePickOutput,
    FixedPriceProjectInput,
    FixedPriceProjectOutput,
    FixedPriceReviewInput,
    FixedPriceWarningOutput,
)
from trading.ocds.mapping import request_context

PUBLIC_STATUSES = [s for s in ProjectStatus.values if s != ProjectStatus.DRAFT]


def _valid(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


def _project(request, pk) -> Project:
    project = Project.objects.filter(public_id=pk).select_related("tenderer", "agent", "contractor").first()
    if project is None or (project.status == ProjectStatus.DRAFT and not can(request.user, "fixed_price.manage",
                                                                              project)):
        raise NotFoundError(_("No published fixed-price project with this id."))
    return project


class ProjectListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=FixedPriceProjectOutput(many=True), summary="Published fixed-price projects")
    def get(self, request):
        qs = Project.objects.filter(status__in=PUBLIC_STATUSES).select_related("tenderer", "agent", "contractor")
        return Response(FixedPriceProjectOutput(qs[:200], many=True).data)

    @extend_schema(request=FixedPriceProjectInput, responses={201: FixedPriceProjectOutput})
    def post(self, request):
        authorize(request.user, "fixed_price.create")
        data = _valid(FixedPriceProjectInput, request)
        tenderer = Organisation.objects.filter(pk=data.pop("tenderer")).first()
        if tenderer is None:
            raise DomainError(_("No such organisation."), fields={"tenderer": ["unknown"]})
        project = services.project_create(actor=request.user, tenderer=tenderer, **data)
        return Response(FixedPriceProjectOutput(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=FixedPriceProjectOutput)
    def get(self, request, pk):
        return Response(FixedPriceProjectOutput(_project(request, pk)).data)


def _action(summary: str):
    return extend_schema(request=None, responses=FixedPriceProjectOutput, summary=summary)


class ProjectPublishView(APIView):
    @_action("Publish the notice")
    def post(self, request, pk):
        project = services.project_publish(actor=request.user, project=_project(request, pk))
        return Response(FixedPriceProjectOutput(project).data)


class ReviewPublishView(APIView):
    @_action("Publish the qualification result")
    def post(self, request, pk):
        project = services.review_publish(actor=request.user, project=_project(request, pk))
        return Response(FixedPriceProjectOutput(project).data)


class ContractView(APIView):
    @_action("Record the contract (after the result publicity); deposits are refunded")
    def post(self, request, pk):
        project = services.contract_record(actor=request.user, project=_project(request, pk))
        return Response(FixedPriceProjectOutput(project).data)


class CompleteView(APIView):
    @_action("The works are completed")
    def post(self, request, pk):
        return Response(FixedPriceProjectOutput(services.project_complete(actor=request.user,
                                                                project=_project(request, pk))).data)


class EntryListView(APIView):
    """Entries: the agent, the tenderer and supervisors at any time; everyone once the qualification
    result is published (with the reasons). POST: an enterprise registers (multipart, `documents`)."""

    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses=FixedPriceEntryOutput(many=True))
    def get(self, request, pk):
        project = _project(request, pk)
        if not (can(request.user, "fixed_price.view_entries", project) or project.reviewed_at is not None):
            raise NotFoundError(_("The entries are published with the qualification result."))
        qs = project.entries.filter(withdrawn_at__isnull=True).select_related("organisation", "project")
        return Response(FixedPriceEntryOutput(qs, many=True).data)

    @extend_schema(request={"multipart/form-data": FixedPriceEntryInput}, responses={201: FixedPriceEntryCreatedOutput})
    def post(self, request, pk):
        project = _project(request, pk)
        authorize(request.user, "fixed_price.register", project)
        data = FixedPriceEntryInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry, instructions = services.entry_register(actor=request.user, project=project, **data.validated_data)
        return Response({"entry": FixedPriceEntryOutput(entry).data,
                         "deposit_instructions": serializers.JSONField().to_representation(instructions)},
                        status=status.HTTP_201_CREATED)


class EntryReviewView(APIView):
    @extend_schema(request=FixedPriceReviewInput, responses=FixedPriceEntryOutput)
    def post(self, request, pk: int):
        entry = get_object_or_404(Entry.objects.select_related("project", "organisation"), pk=pk)
        if not can(request.user, "fixed_price.view_entries", entry.project):
            raise NotFoundError(_("No such entry."))
        return Response(FixedPriceEntryOutput(services.entry_review(actor=request.user, entry=entry,
                                                          **_valid(FixedPriceReviewInput, request))).data)


class ObjectionView(APIView):
    @extend_schema(request=FixedPriceObjectionInput, responses={201: FixedPriceObjectionOutput})
    def post(self, request, pk):
        made = services.objection_raise(actor=request.user, project=_project(request, pk),
                                        **_valid(FixedPriceObjectionInput, request))
        return Response(FixedPriceObjectionOutput(made).data, status=status.HTTP_201_CREATED)


class ObjectionReplyView(APIView):
    @extend_schema(request=FixedPriceObjectionReplyInput, responses=FixedPriceObjectionOutput)
    def post(self, request, pk: int):
        objection = get_object_or_404(Objection.objects.select_related("project"), pk=pk)
        if not can(request.user, "fixed_price.manage", objection.project):
            raise NotFoundError(_("No such objection."))
        data = _valid(FixedPriceObjectionReplyInput, request)
        return Response(FixedPriceObjectionOutput(services.objection_reply(actor=request.user, objection=objection,
                                                                           **data)).data)


class DrawingView(APIView):
    """GET: the public drawing record (404 before the drawing). POST: the agent starts the drawing."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: FixedPriceDrawingRecordOutput, 404: OpenApiResponse(description="not drawn yet")},
                   summary="Public drawing record (recompute the drawing)")
    def get(self, request, pk):
        project = _project(request, pk)
        drawing = drawing_of(project)
        if drawing is None or drawing.drawn_at is None:
            raise NotFoundError(_("This project is not drawn yet."))
        return Response(FixedPriceDrawingRecordOutput(drawing_public_record(drawing)).data)

    @extend_schema(request=None, responses={201: FixedPricePickOutput(many=True)}, summary="Start the drawing")
    def post(self, request, pk):
        drawing = services.drawing_start(actor=request.user, project=_project(request, pk))
        return Response(FixedPricePickOutput(drawing.picks.select_related("organisation"), many=True).data,
                        status=status.HTTP_201_CREATED)


class PickListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=FixedPricePickOutput(many=True))
    def get(self, request, pk):
        project = _project(request, pk)
        qs = Pick.objects.filter(drawing__project=project, drawing__drawn_at__isnull=False).select_related(
            "organisation")
        return Response(FixedPricePickOutput(qs, many=True).data)


class ExclusionListView(APIView):
    """The qualified enterprises excluded from the drawing, each with its reason: supervisors (and the agent)."""

    @extend_schema(responses=FixedPriceExclusionOutput(many=True))
    def get(self, request, pk):
        project = _project(request, pk)
        if not (can(request.user, "fixed_price.supervise", project) or can(request.user, "fixed_price.manage",
                                                                            project)):
            raise NotFoundError(_("Exclusions are shown to supervisors."))
        drawing = drawing_of(project)
        return Response(FixedPriceExclusionOutput(drawing.excluded if drawing else [], many=True).data)


class PickConfirmView(APIView):
    @extend_schema(request=None, responses=FixedPricePickOutput, summary="The drawn enterprise confirms and signs")
    def post(self, request, pk: int):
        pick = get_object_or_404(Pick, pk=pk)
        return Response(FixedPricePickOutput(services.pick_confirm(actor=request.user, pick=pick)).data)


class PickRefuseView(APIView):
    @extend_schema(request=None, responses=FixedPricePickOutput, summary="The drawn enterprise declines")
    def post(self, request, pk: int):
        pick = get_object_or_404(Pick, pk=pk)
        return Response(FixedPricePickOutput(services.pick_refuse(actor=request.user, pick=pick)).data)


class WarningListView(APIView):
    @extend_schema(responses=FixedPriceWarningOutput(many=True))
    def get(self, request):
        authorize(request.user, "fixed_price.supervise")
        rows = SupervisionWarning.objects.select_related("project")[:500]
        return Response(FixedPriceWarningOutput(rows, many=True).data)


class WarningAcknowledgeView(APIView):
    @extend_schema(request=None, responses=FixedPriceWarningOutput)
    def post(self, request, pk: int):
        warning = get_object_or_404(SupervisionWarning.objects.select_related("project"), pk=pk)
        return Response(FixedPriceWarningOutput(services.warning_acknowledge(actor=request.user, warning=warning)).data)


@extend_schema(tags=["open data"])
class OpenDataView(APIView):
    """The project's OCDS 1.1 release package (public, no login; 404 for drafts, for every caller)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: FixedPriceOcdsPackageOutput, 404: ERRORS[404]},
                   summary="Open data (OCDS 1.1 release package) of a published project")
    def get(self, request, pk):
        project = published_projects().filter(public_id=pk).first()
        if project is None:
            raise NotFoundError(_("No published fixed-price project with this id."))
        package = project_package(project, uri=request.build_absolute_uri(), ctx=request_context(request))
        return Response(FixedPriceOcdsPackageOutput(package).data)
