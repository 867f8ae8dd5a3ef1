"""Evaluation API (/api/v1/): thin views — parse input, call one service or selector, render output."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.policy import authorize
from config import api
from config.api import error_body, validated
from config.errors import NotPermitted
from trading import selectors as trading_selectors
from trading.evaluation import selectors
from trading.evaluation import serializers as s
from trading.evaluation.models import EvaluationSession, PublicityObjection
from trading.evaluation.services import award as award_services
from trading.evaluation.services import criteria as criteria_services
from trading.evaluation.services import publicity as publicity_services
from trading.evaluation.services import reports as report_services
from trading.evaluation.services import sessions as session_services
from trading.evaluation.services import sheets as sheet_services
from trading.evaluation.services.reports import current_report
from trading.models import Lot

ERRORS = {**api.ERRORS, 403: OpenApiResponse(description="Not permitted, or sealed (code `sealed`)")}


def _tender(request, pk):
    return trading_selectors.tender_get(user=request.user, pk=pk)


def _lot(request, pk) -> Lot:
    return trading_selectors.lot_get(user=request.user, pk=pk)


class _List(generics.ListAPIView):
    pass


# --- criteria ------------------------------------------------------------------------------------------


@extend_schema(tags=["evaluation"])
class CriteriaView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        responses={200: s.EvaluationCriterionOutput(many=True)}, summary="Weighted criteria (comprehensive scoring)"
    )
    def get(self, request, pk: int):
        tender = _tender(request, pk)
        return Response(s.EvaluationCriterionOutput(selectors.criteria_of(tender), many=True).data)

    @extend_schema(request=s.EvaluationCriteriaInput, responses={200: s.EvaluationCriterionOutput(many=True), **ERRORS},
                   summary="Set the criteria of a draft (they are part of the tender documents)")
    def put(self, request, pk: int):
        tender = _tender(request, pk)
        data = validated(s.EvaluationCriteriaInput, request.data)
        saved = criteria_services.criteria_set(actor=request.user, tender=tender, criteria=data["criteria"])
        return Response(s.EvaluationCriterionOutput(saved, many=True).data)


# --- sessions ------------------------------------------------------------------------------------------


def _detail(request, session) -> dict:
    me = selectors.member_of(request.user, session)
    report = current_report(session)
    return {
        "session": session,
        "members": selectors.members_visible(request.user, session),
        "me": me,
        "progress": selectors.progress(session),
        "report": report.pk if report else None,
    }


@extend_schema(tags=["evaluation"])
class LotEvaluationView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.EvaluationSessionDetailOutput, **ERRORS}, summary="The lot's evaluation")
    def get(self, request, pk: int):
        lot = _lot(request, pk)
        session = selectors.live_session_of_lot(lot)
        if session is None:
            return Response(error_body("not_found", "This lot's evaluation is not open."), status=404)
        session = selectors.session_get(user=request.user, pk=session.pk)
        return Response(s.EvaluationSessionDetailOutput(_detail(request, session)).data)

    @extend_schema(request=None, responses={201: s.EvaluationSessionOutput, **ERRORS},
                   summary="Open the lot's evaluation after the opening (agent)")
    def post(self, request, pk: int):
        session = session_services.session_open(actor=request.user, lot=_lot(request, pk))
        return Response(s.EvaluationSessionOutput(session).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["evaluation"])
class SessionListView(_List):
    permission_classes = [IsAuthenticated]
    serializer_class = s.EvaluationSessionOutput

    def get_queryset(self):
        return selectors.sessions_for(self.request.user)


@extend_schema(tags=["evaluation"])
class SessionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.EvaluationSessionDetailOutput, **ERRORS})
    def get(self, request, pk: int):
        session = selectors.session_get(user=request.user, pk=pk)
        return Response(s.EvaluationSessionDetailOutput(_detail(request, session)).data)


@extend_schema(tags=["evaluation"])
class SignInView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.EvaluationSignInOutput, 409: s.EvaluationSignInOutput, **ERRORS},
                   summary="A drawn expert signs in (reveals the panel); 409 `panel_changed` while seats refill")
    def post(self, request, pk: int):
        session = selectors.session_get(user=request.user, pk=pk)
        outcome = session_services.member_sign_in(actor=request.user, session=session)
        data = s.EvaluationSignInOutput(outcome.__dict__).data
        if outcome.waiting:
            # Not an exception: the avoidance removal done by the reveal must commit.
            return Response({**error_body("panel_changed", outcome.message), **data}, status=409)
        return Response(data)


@extend_schema(tags=["evaluation"])
class DeclarationView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.InterestDeclarationInput, responses={200: s.CommitteeMemberOutput, **ERRORS},
                   summary="Declaration of no conflict of interest (a conflict recuses the member)")
    def post(self, request, pk: int):
        session = selectors.session_get(user=request.user, pk=pk)
        data = validated(s.InterestDeclarationInput, request.data)
        member = _my_member(request, session)
        member = session_services.member_declare(actor=request.user, member=member, **data)
        return Response(s.CommitteeMemberOutput(member).data)


def _my_member(request, session):
    member = selectors.member_of(request.user, session)
    if member is None:
        raise NotPermitted(_("Sign in to the evaluation first."), code="not_signed_in")
    return member


@extend_schema(tags=["evaluation"])
class BidsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.EvaluationBidOutput(many=True), **ERRORS}, summary="The lot's decrypted bids")
    def get(self, request, pk: int):
        session = selectors.session_get(user=request.user, pk=pk)
        return Response(s.EvaluationBidOutput(selectors.bids_visible(request.user, session), many=True).data)


@extend_schema(tags=["evaluation"])
class MySheetView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.EvaluationSheetOutput, **ERRORS}, summary="My sheet (drafts are mine only)")
    def get(self, request, pk: int):
        session = selectors.session_get(user=request.user, pk=pk)
        return Response(s.EvaluationSheetOutput(selectors.my_sheet(request.user, session)).data)


@extend_schema(tags=["evaluation"])
class MarksView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.QualificationMarksInput, responses={200: s.EvaluationSheetOutput, **ERRORS},
                   summary="Save qualification marks (pass/fail with reasons)")
    def put(self, request, pk: int):
        session = selectors.session_get(user=request.user, pk=pk)
        data = validated(s.QualificationMarksInput, request.data)
        sheet_services.marks_save(actor=request.user, member=_my_member(request, session), marks=data["marks"])
        return Response(s.EvaluationSheetOutput(selectors.my_sheet(request.user, session)).data)


@extend_schema(tags=["evaluation"])
class ScoresView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.EvaluationScoresInput, responses={200: s.EvaluationSheetOutput, **ERRORS},
                   summary="Save scores per bid and criterion (comprehensive scoring)")
    def put(self, request, pk: int):
        session = selectors.session_get(user=request.user, pk=pk)
        data = validated(s.EvaluationScoresInput, request.data)
        sheet_services.scores_save(actor=request.user, member=_my_member(request, session), scores=data["scores"])
        return Response(s.EvaluationSheetOutput(selectors.my_sheet(request.user, session)).data)


@extend_schema(tags=["evaluation"])
class SubmitView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: s.SheetSubmissionOutput, **ERRORS},
                   summary="Submit my sheet: final for the round, with the platform's signed receipt")
    def post(self, request, pk: int):
        session = selectors.session_get(user=request.user, pk=pk)
        sub = sheet_services.sheet_submit(actor=request.user, member=_my_member(request, session))
        report = current_report(session)
        out = {"round": sub.round, "sha256": sub.sha256, "submitted_at": sub.submitted_at, "receipt": sub.receipt,
               "report": report.pk if report else None}
        return Response(s.SheetSubmissionOutput(out).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["evaluation"])
class SheetsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.VisibleSheetOutput(many=True), **ERRORS},
                   summary="The members' sheets, as far as they are visible to you (sealed otherwise)")
    def get(self, request, pk: int):
        session = selectors.session_get(user=request.user, pk=pk)
        return Response(s.VisibleSheetOutput(selectors.sheets_visible(request.user, session), many=True).data)


@extend_schema(tags=["evaluation"])
class MemberReplaceView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.EvalReasonInput, responses={200: s.CommitteeMemberOutput, **ERRORS},
                   summary="Replace a member: a new draw fills the seat, the member's scores are void")
    def post(self, request, pk: int):
        member = selectors.member_get(user=request.user, pk=pk)
        data = validated(s.EvalReasonInput, request.data)
        member = session_services.member_replace(actor=request.user, member=member, reason=data["reason"])
        return Response(s.CommitteeMemberOutput(member).data)


class MemberRatingView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.MemberRatingInput, responses={201: s.MemberRatingOutput, **ERRORS},
                   summary="Rate a member after the evaluation (agent, supervisor); poor ratings suspend the expert")
    def post(self, request, pk: int):
        from trading.evaluation.services.ratings import member_rate

        member = selectors.member_get(user=request.user, pk=pk)
        data = validated(s.MemberRatingInput, request.data)
        rating = member_rate(actor=request.user, member=member, **data)
        return Response(s.MemberRatingOutput(rating).data, status=status.HTTP_201_CREATED)


# --- reports -------------------------------------------------------------------------------------------


def _report_out(request, report, level, view=None) -> dict:
    view = view or report_services.report_view(report, level)
    return {**view, "level": level, "signatures": selectors.signatures_visible(request.user, report)}


@extend_schema(tags=["evaluation"])
class SessionReportView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses={200: s.EvaluationReportOutput, **ERRORS}, summary="The evaluation's current report")
    def get(self, request, pk: int):
        session = get_object_or_404(EvaluationSession, pk=pk)
        report, level, view = selectors.session_report(user=request.user, session=session)
        return Response(s.EvaluationReportOutput(_report_out(request, report, level, view)).data)


@extend_schema(tags=["evaluation"])
class ReportView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses={200: s.EvaluationReportOutput, **ERRORS}, summary="A report version (sealing per reader)")
    def get(self, request, pk: int):
        report, level = selectors.report_get(user=request.user, pk=pk)
        return Response(s.EvaluationReportOutput(_report_out(request, report, level)).data)


@extend_schema(tags=["evaluation"])
class ReportSignView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.ReportSignInput, responses={201: s.ReportSignatureOutput, **ERRORS},
                   summary="Sign the report (agreement or written dissent, 实施条例 Art 53)")
    def post(self, request, pk: int):
        report, _level = selectors.report_get(user=request.user, pk=pk)
        data = validated(s.ReportSignInput, request.data)
        signature = report_services.report_sign(actor=request.user, report=report, **data)
        return Response(s.ReportSignatureOutput(signature).data, status=status.HTTP_201_CREATED)


# --- publicity, objections, complaints -----------------------------------------------------------------


@extend_schema(tags=["publicity"])
class PublicityView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses={200: s.PublicityOutput(many=True)}, summary="Candidate publicities (public)")
    def get(self, request, pk: int):
        return Response(s.PublicityOutput(selectors.publicities_of(_tender(request, pk)), many=True).data)

    @extend_schema(request=s.EvalTitleInput, responses={201: s.PublicityOutput, **ERRORS},
                   summary="Publish the candidates of the final reports (agent)")
    def post(self, request, pk: int):
        data = validated(s.EvalTitleInput, request.data)
        publicity = publicity_services.publicity_start(actor=request.user, tender=_tender(request, pk), **data)
        return Response(s.PublicityOutput(publicity).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["publicity"])
class PublicityObjectionListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.PublicityObjectionOutput(many=True)},
                   summary="Objections to the evaluation result (yours; all for the tender's side and supervisors)")
    def get(self, request, pk: int):
        return Response(s.PublicityObjectionOutput(selectors.objections_for(request.user, _tender(request, pk)),
                                          many=True).data)

    @extend_schema(request=s.EvalTextInput, responses={201: s.PublicityObjectionOutput, **ERRORS},
                   summary="Object to the evaluation result during the publicity (bidder)")
    def post(self, request, pk: int):
        data = validated(s.EvalTextInput, request.data)
        objection = publicity_services.publicity_objection_raise(actor=request.user, tender=_tender(request, pk),
                                                                 text=data["text"])
        return Response(s.PublicityObjectionOutput(objection).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["publicity"])
class PublicityObjectionReplyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.PublicityObjectionReplyInput, responses={200: s.PublicityObjectionOutput, **ERRORS},
                   summary="Reply to an objection (tenderer or agent), within 3 days")
    def post(self, request, pk: int):
        objection = selectors.objection_get(user=request.user, pk=pk)
        data = validated(s.PublicityObjectionReplyInput, request.data)
        objection = publicity_services.publicity_objection_reply(actor=request.user, objection=objection, **data)
        return Response(s.PublicityObjectionOutput(objection).data)


@extend_schema(tags=["complaints"])
class TenderComplaintListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.ComplaintOutput(many=True)}, summary="Complaints about the tender")
    def get(self, request, pk: int):
        return Response(s.ComplaintOutput(selectors.complaints_for(request.user, _tender(request, pk)),
                                          many=True).data)

    @extend_schema(request=s.ComplaintInput, responses={201: s.ComplaintOutput, **ERRORS},
                   summary="Complain to the supervising department (within 10 days, 实施条例 Art 60)")
    def post(self, request, pk: int):
        tender = _tender(request, pk)
        data = validated(s.ComplaintInput, request.data)
        objection = None
        if data["objection"] is not None:
            objection = get_object_or_404(PublicityObjection, pk=data["objection"], tender=tender)
        complaint = publicity_services.complaint_file(actor=request.user, tender=tender, text=data["text"],
                                                      objection=objection)
        return Response(s.ComplaintOutput(complaint).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["complaints"])
class ComplaintListView(_List):
    permission_classes = [IsAuthenticated]
    serializer_class = s.ComplaintOutput

    def get_queryset(self):
        return selectors.complaints_for(self.request.user)


@extend_schema(tags=["complaints"])
class ComplaintDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.ComplaintOutput, **ERRORS})
    def get(self, request, pk: int):
        return Response(s.ComplaintOutput(selectors.complaint_get(user=request.user, pk=pk)).data)


@extend_schema(tags=["complaints"])
class ComplaintAcceptView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.ComplaintOutput, **ERRORS}, summary="Accept (受理), supervisor")
    def post(self, request, pk: int):
        complaint = selectors.complaint_get(user=request.user, pk=pk)
        return Response(s.ComplaintOutput(publicity_services.complaint_accept(actor=request.user,
                                                                              complaint=complaint)).data)


@extend_schema(tags=["complaints"])
class ComplaintRejectView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.EvalReasonInput, responses={200: s.ComplaintOutput, **ERRORS},
                   summary="Do not accept (不予受理), with the reason")
    def post(self, request, pk: int):
        complaint = selectors.complaint_get(user=request.user, pk=pk)
        data = validated(s.EvalReasonInput, request.data)
        return Response(s.ComplaintOutput(publicity_services.complaint_reject(
            actor=request.user, complaint=complaint, reason=data["reason"])).data)


@extend_schema(tags=["complaints"])
class ComplaintDecideView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.ComplaintDecisionInput, responses={200: s.ComplaintOutput, **ERRORS},
                   summary="The written decision (实施条例 Art 61)")
    def post(self, request, pk: int):
        complaint = selectors.complaint_get(user=request.user, pk=pk)
        data = validated(s.ComplaintDecisionInput, request.data)
        return Response(s.ComplaintOutput(publicity_services.complaint_decide(
            actor=request.user, complaint=complaint, **data)).data)


# --- award and contract ----------------------------------------------------------------------------------


@extend_schema(tags=["award"])
class AwardView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses={200: s.AwardOutput(many=True)}, summary="Awards of the tender (public)")
    def get(self, request, pk: int):
        return Response(s.AwardOutput(selectors.awards_of(_tender(request, pk)), many=True).data)

    @extend_schema(request=s.EvalTitleInput, responses={201: s.AwardOutput(many=True), **ERRORS},
                   summary="Publish the award (first-ranked candidates) after the publicity (agent)")
    def post(self, request, pk: int):
        data = validated(s.EvalTitleInput, request.data)
        awards = award_services.award_publish(actor=request.user, tender=_tender(request, pk), **data)
        return Response(s.AwardOutput(awards, many=True).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["award"])
class AwardLetterView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.AwardLetterOutput, **ERRORS},
                   summary="The signed award letter (中标通知书): the winner, the tender's side, supervisors")
    def get(self, request, pk: int):
        award = selectors.award_get(pk=pk)
        authorize(request.user, "award.view_letter", award)
        return Response(s.AwardLetterOutput(award).data)


@extend_schema(tags=["award"])
class AwardDeclineView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.EvalReasonInput, responses={200: s.AwardOutput, **ERRORS},
                   summary="The winner refuses to sign: the deposit is forfeited (实施条例 Art 74)")
    def post(self, request, pk: int):
        award = selectors.award_get(pk=pk)
        data = validated(s.EvalReasonInput, request.data)
        return Response(s.AwardOutput(award_services.award_decline(actor=request.user, award=award,
                                                                   reason=data["reason"])).data)


@extend_schema(tags=["award"])
class AwardNextView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.EvalTitleInput, responses={201: s.AwardOutput, **ERRORS},
                   summary="Award the lot to the next candidate (实施条例 Art 55)")
    def post(self, request, pk: int):
        data = validated(s.EvalTitleInput, request.data)
        award = award_services.award_next(actor=request.user, lot=_lot(request, pk), **data)
        return Response(s.AwardOutput(award).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["award"])
class ContractView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.ContractInput, responses={201: s.ContractOutput, **ERRORS},
                   summary="Record the signed contract; its date triggers the deposit refunds")
    def post(self, request, pk: int):
        award = selectors.award_get(pk=pk)
        data = validated(s.ContractInput, request.data)
        contract = award_services.contract_record(actor=request.user, award=award, **data)
        return Response(s.ContractOutput(contract).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["award"])
class TenderContractsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.ContractOutput(many=True)}, summary="Contracts of the tender (public)")
    def get(self, request, pk: int):
        return Response(s.ContractOutput(selectors.contracts_of(_tender(request, pk)), many=True).data)
