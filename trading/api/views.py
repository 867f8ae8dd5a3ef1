"""Trading API (/api/v1/): thin views: parse input, call one service or selector, render output."""

from __future__ import annotations

from uuid import UUID

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.policy import authorize, can
from accounts.tokens import token_user
from config.api import ERRORS, error_body, validated
from config.clientip import client_ip as resolve
from config.errors import DomainError, NotPermitted
from config.parsers import StrictFormParser, StrictMultiPartParser
from trading import selectors, visibility
from trading.api import serializers as s
from trading.rules import SEAL_UNTIL_DEADLINE
from trading.services import documents as document_services
from trading.services import notices as notice_services
from trading.services import objections as objection_services
from trading.services import questions as question_services
from trading.services import registrations as registration_services
from trading.services import tenders as tender_services
from trading.services.deposit_hook import deposit_instructions


def _ctx(request) -> dict:
    return {"user": request.user, "request": request}


def client_ip(request) -> str | None:
    """The client address as config.clientip resolves it (trusted proxies only)."""
    return resolve(request)


class _List(generics.ListAPIView):
    """A paginated list whose output serializer gets the requesting user in its context."""

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}


# --- tenders -------------------------------------------------------------------------------------


@extend_schema(tags=["tenders"])
class TenderListView(_List):
    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = s.TenderListOutput

    def get_queryset(self):
        f = validated(s.TenderFilter, self.request.query_params)
        return selectors.tenders_for_user(user=self.request.user, **f)

    @extend_schema(parameters=[s.TenderFilter], summary="Published tenders (and your organisation's drafts)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=s.TenderInput, responses={201: s.TenderOutput, **ERRORS}, summary="Create a draft")
    def post(self, request):
        data = validated(s.TenderInput, request.data)
        tender = tender_services.tender_create(actor=request.user, **data)
        return Response(s.TenderOutput(tender, context=_ctx(request)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["tenders"])
class TenderDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses={200: s.TenderOutput, 404: ERRORS[404]})
    def get(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        return Response(s.TenderOutput(tender, context=_ctx(request)).data)

    @extend_schema(
        request=s.TenderInput(partial=True), responses={200: s.TenderOutput, **ERRORS}, summary="Edit a draft"
    )
    def patch(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        data = validated(s.TenderInput, request.data, partial=True)
        tender = tender_services.tender_update(actor=request.user, tender=tender, **data)
        return Response(s.TenderOutput(tender, context=_ctx(request)).data)

    @extend_schema(responses={200: s.TenderOutput, **ERRORS}, summary="Withdraw a draft (status cancelled)")
    def delete(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        tender = tender_services.tender_cancel_draft(actor=request.user, tender=tender)
        return Response(s.TenderOutput(tender, context=_ctx(request)).data)


@extend_schema(tags=["tenders"])
class TenderRuleCheckView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.RuleCheckOutput, **ERRORS}, summary="Which publish-time rules fail now")
    def get(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        authorize(request.user, "tender.manage", tender)
        problems = tender_services.publish_problems(tender)
        return Response(
            s.RuleCheckOutput({"publishable": not problems, "problems": [p.__dict__ for p in problems]}).data
        )


@extend_schema(tags=["tenders"])
class TenderPublishView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.PublishInput,
        responses={200: s.PublishOutput, **ERRORS},
        summary="Check every rule and publish the tender notice",
    )
    def post(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        data = validated(s.PublishInput, request.data)
        notice = tender_services.tender_publish(actor=request.user, tender=tender, **data)
        return Response(s.PublishOutput({"tender": tender, "notice": notice}, context=_ctx(request)).data)


# --- lots ---------------------------------------------------------------------------------------


@extend_schema(tags=["tenders"])
class LotListView(_List):
    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = s.LotOutput

    def get_queryset(self):
        return selectors.tender_get(user=self.request.user, pk=self.kwargs["pk"]).lots.select_related("tender")

    @extend_schema(request=s.LotInput, responses={201: s.LotOutput, **ERRORS}, summary="Add a lot to a draft")
    def post(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        data = validated(s.LotInput, request.data)
        lot = tender_services.lot_create(actor=request.user, tender=tender, **data)
        return Response(s.LotOutput(lot).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["tenders"])
class LotDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses={200: s.LotOutput, 404: ERRORS[404]})
    def get(self, request, pk: int):
        return Response(s.LotOutput(selectors.lot_get(user=request.user, pk=pk)).data)

    @extend_schema(request=s.LotInput(partial=True), responses={200: s.LotOutput, **ERRORS})
    def patch(self, request, pk: int):
        lot = selectors.lot_get(user=request.user, pk=pk)
        data = validated(s.LotInput, request.data, partial=True)
        lot = tender_services.lot_update(actor=request.user, lot=lot, **data)
        return Response(s.LotOutput(lot).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, pk: int):
        lot = selectors.lot_get(user=request.user, pk=pk)
        tender_services.lot_delete(actor=request.user, lot=lot)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- documents ---------------------------------------------------------------------------------


@extend_schema(tags=["documents"])
class DocumentListView(_List):
    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = s.DocumentOutput
    parser_classes = [StrictMultiPartParser, StrictFormParser]

    def get_queryset(self):
        tender = selectors.tender_get(user=self.request.user, pk=self.kwargs["pk"])
        history = self.request.query_params.get("history") in ("1", "true")
        return selectors.documents_of(tender=tender, include_superseded=history)

    @extend_schema(
        parameters=[OpenApiParameter("history", bool, description="Include superseded versions")],
        summary="The tender documents (public)",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": s.DocumentUploadInput},
        responses={201: s.DocumentOutput, **ERRORS},
        summary="Upload a document or a new version of one",
    )
    def post(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        data = validated(s.DocumentUploadInput, request.data)
        doc = document_services.document_upload(
            actor=request.user, tender=tender, file=data["file"], name=data["name"] or None,
            amendment_title=data["amendment_title"], amendment_body=data["amendment_body"],
            new_deadline=data["new_deadline"],
        )
        return Response(s.DocumentOutput(doc, context=_ctx(request)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["documents"])
class DocumentDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses={200: s.DocumentOutput, 404: ERRORS[404]})
    def get(self, request, pk: int):
        doc = selectors.document_get(user=request.user, pk=pk)
        return Response(s.DocumentOutput(doc, context=_ctx(request)).data)

    @extend_schema(responses={200: s.DocumentOutput, **ERRORS}, summary="Withdraw a document from a draft")
    def delete(self, request, pk: int):
        doc = selectors.document_get(user=request.user, pk=pk)
        doc = document_services.document_withdraw(actor=request.user, document=doc)
        return Response(s.DocumentOutput(doc, context=_ctx(request)).data)


@extend_schema(tags=["documents"])
class DocumentDownloadView(APIView):
    """Download without any registration or login (电子招标投标办法 Art 20); the download is recorded."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description=(
        "The file, with the media type recorded at upload (PDF for the tender documents); "
        "Repr-Digest and X-Content-SHA256 carry its SHA-256.")), **ERRORS})
    def get(self, request, pk: int):
        doc = selectors.document_get(user=request.user, pk=pk)
        document_services.document_download_record(user=request.user, document=doc, ip=client_ip(request))
        return document_response(doc)


def document_response(doc) -> FileResponse:
    import base64

    response = FileResponse(doc.file.open("rb"), as_attachment=True, filename=doc.name, content_type=doc.content_type)
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(doc.sha256)).decode()}:"
    response["X-Content-SHA256"] = doc.sha256
    return response


@extend_schema(tags=["documents"])
class DownloadListView(_List):
    """Who downloaded what: sealed until the deadline (supervisors always)."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.DownloadOutput

    def get_queryset(self):
        tender = selectors.tender_get(user=self.request.user, pk=self.kwargs["pk"])
        if not visibility.downloads_visible(self.request.user, tender):
            raise NotPermitted(
                _("The download list is sealed until the bid deadline (%(src)s).") % {"src": SEAL_UNTIL_DEADLINE},
                code="sealed",
            )
        return visibility.downloads_for(self.request.user, tender)


# --- notices ------------------------------------------------------------------------------------


@extend_schema(tags=["notices"])
class NoticeListView(_List):
    permission_classes = [AllowAny]
    serializer_class = s.NoticeOutput

    def get_queryset(self):
        f = dict(validated(s.NoticeFilter, self.request.query_params))
        f["tender_id"] = f.pop("tender")
        return selectors.notices_public(**f)

    @extend_schema(parameters=[s.NoticeFilter], summary="Published notices (public), with search and filters")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["notices"])
class NoticeDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.NoticeOutput, 404: ERRORS[404]})
    def get(self, request, pk: int):
        return Response(s.NoticeOutput(selectors.notice_get(pk=pk)).data)


@extend_schema(tags=["notices"])
class TenderNoticeView(_List):
    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = s.NoticeOutput

    def get_queryset(self):
        tender = selectors.tender_get(user=self.request.user, pk=self.kwargs["pk"])
        return selectors.notices_public(tender_id=tender.pk)

    @extend_schema(
        request=s.ResultNoticeInput,
        responses={201: s.NoticeOutput, **ERRORS},
        summary="Publish candidate publicity, award result, failure or termination",
    )
    def post(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        data = validated(s.ResultNoticeInput, request.data)
        notice = notice_services.result_notice_publish(actor=request.user, tender=tender, **data)
        return Response(s.NoticeOutput(notice).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["notices"])
class AmendmentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.AmendmentInput,
        responses={201: s.NoticeOutput, **ERRORS},
        summary="Publish an amendment or clarification (15-day rule; moves the deadline)",
    )
    def post(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        data = validated(s.AmendmentInput, request.data)
        notice = notice_services.amendment_publish(actor=request.user, tender=tender, **data)
        return Response(s.NoticeOutput(notice).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["notices"])
class AmendmentProposalView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[s.ProposalQuery],
        responses={200: s.AmendmentProposalOutput, **ERRORS},
        summary="Must an amendment published now move the deadline, and to when?",
    )
    def get(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        authorize(request.user, "tender.manage", tender)
        q = validated(s.ProposalQuery, request.query_params)
        proposal = notice_services.amendment_proposal(tender=tender, affects_preparation=q["affects_preparation"])
        return Response(s.AmendmentProposalOutput(proposal).data)


# --- registrations ----------------------------------------------------------------------------------


@extend_schema(tags=["registrations"])
class LotRegistrationView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={201: s.RegistrationCreatedOutput, **ERRORS},
        summary="Register your organisation for a lot; returns deposit instructions",
    )
    def post(self, request, pk: int):
        lot = selectors.lot_get(user=request.user, pk=pk)
        registration, instructions = registration_services.registration_create(actor=request.user, lot=lot)
        return Response(
            s.RegistrationCreatedOutput({"registration": registration, "deposit_instructions": instructions}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["registrations"])
class TenderRegistrationListView(_List):
    """All registrations for supervisors (and the tender's side after the deadline); a bidder sees its own."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.RegistrationOutput

    def get_queryset(self):
        user = self.request.user
        tender = selectors.tender_get(user=user, pk=self.kwargs["pk"])
        if not visibility.registrations_visible(user, tender) and not can(user, "registration.create"):
            raise NotPermitted(
                _("The registration list is sealed until the bid deadline (%(src)s).") % {"src": SEAL_UNTIL_DEADLINE},
                code="sealed",
            )
        return visibility.registrations_for(user, tender)


@extend_schema(tags=["registrations"])
class MyRegistrationListView(_List):
    permission_classes = [IsAuthenticated]
    serializer_class = s.RegistrationOutput

    def get_queryset(self):
        org_id = self.request.user.organisation_id
        if not org_id:
            raise NotPermitted(_("You belong to no organisation."))
        return selectors.registrations_of_org(org_id=org_id)


@extend_schema(tags=["registrations"])
class RegistrationDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: s.RegistrationCreatedOutput, 404: ERRORS[404]},
        summary="A registration with its deposit instructions",
    )
    def get(self, request, pk: UUID):
        registration = selectors.registration_get(user=request.user, public_id=pk)
        return Response(
            s.RegistrationCreatedOutput(
                {"registration": registration, "deposit_instructions": deposit_instructions(registration)}
            ).data
        )


@extend_schema(tags=["registrations"])
class RegistrationWithdrawView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.RegistrationOutput, **ERRORS})
    def post(self, request, pk: UUID):
        registration = selectors.registration_get(user=request.user, public_id=pk)
        registration = registration_services.registration_withdraw(actor=request.user, registration=registration)
        return Response(s.RegistrationOutput(registration).data)


# --- questions ----------------------------------------------------------------------------------------


@extend_schema(tags=["questions"])
class QuestionListView(_List):
    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = s.QuestionOutput

    def get_queryset(self):
        tender = selectors.tender_get(user=self.request.user, pk=self.kwargs["pk"])
        return visibility.questions_for(self.request.user, tender)

    @extend_schema(summary="Published answers (public); the agent also sees open questions, never their authors")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=s.TextInput, responses={201: s.QuestionOutput, **ERRORS}, summary="Ask a question")
    def post(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        data = validated(s.TextInput, request.data)
        question = question_services.question_ask(actor=request.user, tender=tender, text=data["text"])
        return Response(s.QuestionOutput(question, context=_ctx(request)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["questions"])
class QuestionAnswerView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.AnswerInput,
        responses={200: s.QuestionOutput, **ERRORS},
        summary="Answer a question; the answer is published to all",
    )
    def post(self, request, pk: int):
        question = selectors.question_get(user=request.user, pk=pk)
        data = validated(s.AnswerInput, request.data)
        question = question_services.question_answer(actor=request.user, question=question, answer=data["answer"])
        return Response(s.QuestionOutput(question, context=_ctx(request)).data)


# --- objections -------------------------------------------------------------------------------------


@extend_schema(tags=["objections"])
class ObjectionListView(_List):
    permission_classes = [IsAuthenticated]
    serializer_class = s.ObjectionOutput

    def get_queryset(self):
        tender = selectors.tender_get(user=self.request.user, pk=self.kwargs["pk"])
        return visibility.objections_for(self.request.user, tender)

    @extend_schema(
        request=s.TextInput,
        responses={201: s.ObjectionOutput, **ERRORS},
        summary="Raise an objection to the tender documents (异议)",
    )
    def post(self, request, pk: int):
        tender = selectors.tender_get(user=request.user, pk=pk)
        data = validated(s.TextInput, request.data)
        objection = objection_services.objection_raise(actor=request.user, tender=tender, text=data["text"])
        return Response(s.ObjectionOutput(objection, context=_ctx(request)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["objections"])
class ObjectionReplyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.ReplyInput, responses={200: s.ObjectionOutput, **ERRORS})
    def post(self, request, pk: int):
        objection = selectors.objection_get(user=request.user, pk=pk)
        data = validated(s.ReplyInput, request.data)
        objection = objection_services.objection_reply(actor=request.user, objection=objection, reply=data["reply"])
        return Response(s.ObjectionOutput(objection, context=_ctx(request)).data)


@extend_schema(tags=["objections"])
class OverdueObjectionListView(_List):
    """Open objections whose reply is late (supervisors)."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.ObjectionOutput

    def get_queryset(self):
        authorize(self.request.user, "tender.supervise")
        return selectors.objections_overdue()


def document_body_gate(request, tender_id: int):
    """Run by config/bodylimit.py before a document upload's body is read (API and agent page):
    only a user who may manage the tender gets the document limit (+1 MiB of multipart framing);
    anyone else is refused with 401/404 JSON without a byte of the body being read."""
    from django.http import JsonResponse

    user = request.user
    header = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(header) == 2 and header[0].lower() == "token":
        user = token_user(header[1])
    if user is None or not user.is_authenticated:
        return JsonResponse(error_body("not_authenticated", _("Authentication credentials were not provided.")),
                            status=401)
    try:
        tender = selectors.tender_get(user=user, pk=tender_id)
        authorize(user, "tender.manage", tender)
    except DomainError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    return document_services.max_document_bytes() + 1024 * 1024


@extend_schema(tags=["tenders"])
class TenderArchiveView(APIView):
    """The archive of a finished tender (docs/tendering.md, "Record retention and the archive"): a zip of
    manifest.json, records/, documents/ and the tender's audit bundle. Its agent and supervisors only."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY, **ERRORS},
                   summary="Archive of a finished tender (zip)")
    def get(self, request, pk: int):
        import tempfile

        from trading.retention import archive_write

        tender = selectors.tender_get(user=request.user, pk=pk)
        authorize(request.user, "tender.archive", tender)
        stream = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the FileResponse
        try:
            archive_write(tender=tender, out=stream)
        except BaseException:
            stream.close()
            raise
        stream.seek(0)
        return FileResponse(stream, as_attachment=True, filename=f"{tender.code}-archive.zip",
                            content_type="application/zip")
