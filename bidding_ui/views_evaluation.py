"""Evaluation pages: the expert's workspace, the report, the public results (candidate publicity, award,
contracts), objection and complaint forms with their status, the agent's evaluation page, supervision.

Thin views: a form parses input, one service or selector does the work, a template renders it.
Refusals from services (DomainError) are shown as messages; sealing comes from the selectors.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.policy import can
from bidding_ui.pages import attempt as _attempt
from bidding_ui.pages import form_errors, page_view
from trading import clock, phases
from trading import selectors as trading_selectors
from trading.evaluation import forms as f
from trading.evaluation import selectors
from trading.evaluation.models import Criterion, CriterionKind, PublicityObjection
from trading.evaluation.services import award as award_services
from trading.evaluation.services import criteria as criteria_services
from trading.evaluation.services import publicity as publicity_services
from trading.evaluation.services import reports as report_services
from trading.evaluation.services import sessions as session_services
from trading.evaluation.services import sheets as sheet_services
from trading.evaluation.services.reports import current_report
from trading.models import LotOpening, LotOutcome
from trading.policies import is_party, is_supervisor

# --- expert workspace -----------------------------------------------------------------------------------


@page_view("workspace.expert_evaluation")
def expert_home(request):
    return render(request, "evaluation/expert_home.html", {"rows": selectors.expert_sessions(request.user)})


@page_view("workspace.expert_evaluation")
def expert_session(request, pk: int):
    session = selectors.session_get(user=request.user, pk=pk)
    member = selectors.member_of(request.user, session)
    ctx = {"session": session, "member": member, "progress": selectors.progress(session), "now": clock.now()}
    if member is not None and member.declared_at is not None:
        bids = list(selectors.bids_visible(request.user, session))
        sheet = selectors.my_sheet(request.user, session)
        marks = {m["bid"]: m for m in sheet["content"]["marks"]}
        scores = {(s["bid"], s["criterion"]): s["points"] for s in sheet["content"]["scores"]}
        criteria = list(Criterion.objects.filter(tender=session.tender, kind=CriterionKind.SCORED).order_by("number"))
        marks_initial = {}
        for b in bids:
            if b.pk in marks:
                marks_initial[f"passed_{b.pk}"] = "yes" if marks[b.pk]["passed"] else "no"
                marks_initial[f"reason_{b.pk}"] = marks[b.pk]["reason"]
        scores_initial = {f"points_{b}_{c}": p for (b, c), p in scores.items()}
        ctx.update(
            bids=bids,
            sheet=sheet,
            marks_form=f.MarksForm(bids=bids, initial=marks_initial),
            scores_form=f.ScoresForm(bids=bids, criteria=criteria, initial=scores_initial) if criteria else None,
            all_criteria=Criterion.objects.filter(tender=session.tender).order_by("number"),
        )
        if sheet["submitted_at"]:
            ctx["others"] = selectors.sheets_visible(request.user, session)
        report = current_report(session)
        if report is not None:
            ctx["report"] = report
            ctx["report_view"] = report_services.report_view(report, report_services.FULL)
            ctx["signed"] = report.signatures.filter(member=member).first()
            ctx["sign_form"] = f.SignForm()
    elif member is not None:
        ctx["declaration_form"] = f.DeclarationForm()
        ctx["bidder_names"] = [b.bidder.name for b in session.bids.select_related("bidder").order_by("pk")]
    return render(request, "evaluation/expert_session.html", ctx)


@page_view("workspace.expert_evaluation")
@require_POST
def expert_sign_in(request, pk: int):
    session = selectors.session_get(user=request.user, pk=pk)
    outcome = _attempt(request, lambda: session_services.member_sign_in(actor=request.user, session=session))
    if outcome and getattr(outcome, "waiting", False):
        messages.warning(request, outcome.message)
    elif outcome:
        messages.success(request, _("Signed in. Make your declaration to see the bids."))
    return redirect("evaluation:expert_session", pk)


@page_view("workspace.expert_evaluation")
@require_POST
def expert_declare(request, pk: int):
    session = selectors.session_get(user=request.user, pk=pk)
    member = selectors.member_of(request.user, session)
    form = f.DeclarationForm(request.POST)
    if member is None:
        raise PermissionDenied
    if form.is_valid():
        _attempt(request, lambda: session_services.member_declare(actor=request.user, member=member,
                                                                  **form.cleaned_data),
                 _("Declaration recorded."))
    else:
        form_errors(request, form)
    return redirect("evaluation:expert_session", pk)


def _member_or_403(request, session):
    member = selectors.member_of(request.user, session)
    if member is None:
        raise PermissionDenied
    return member


@page_view("workspace.expert_evaluation")
@require_POST
def expert_marks(request, pk: int):
    session = selectors.session_get(user=request.user, pk=pk)
    member = _member_or_403(request, session)
    form = f.MarksForm(request.POST, bids=selectors.bids_visible(request.user, session))
    if form.is_valid():
        _attempt(request, lambda: sheet_services.marks_save(actor=request.user, member=member, marks=form.marks()),
                 _("Qualification saved (a draft until you submit)."))
    else:
        form_errors(request, form)
    return redirect("evaluation:expert_session", pk)


@page_view("workspace.expert_evaluation")
@require_POST
def expert_scores(request, pk: int):
    session = selectors.session_get(user=request.user, pk=pk)
    member = _member_or_403(request, session)
    criteria = Criterion.objects.filter(tender=session.tender, kind=CriterionKind.SCORED).order_by("number")
    form = f.ScoresForm(request.POST, bids=selectors.bids_visible(request.user, session), criteria=criteria)
    if form.is_valid():
        _attempt(request, lambda: sheet_services.scores_save(actor=request.user, member=member,
                                                               scores=form.scores()),
                 _("Scores saved (a draft until you submit)."))
    else:
        form_errors(request, form)
    return redirect("evaluation:expert_session", pk)


@page_view("workspace.expert_evaluation")
@require_POST
def expert_submit(request, pk: int):
    session = selectors.session_get(user=request.user, pk=pk)
    member = _member_or_403(request, session)
    _attempt(request, lambda: sheet_services.sheet_submit(actor=request.user, member=member),
             _("Sheet submitted; the platform's signed receipt is shown below."))
    return redirect("evaluation:expert_session", pk)


@page_view("workspace.expert_evaluation")
@require_POST
def expert_sign_report(request, pk: int):
    session = selectors.session_get(user=request.user, pk=pk)
    report = current_report(session)
    form = f.SignForm(request.POST)
    if report is None:
        raise Http404
    if form.is_valid():
        _attempt(request, lambda: report_services.report_sign(actor=request.user, report=report,
                                                              **form.cleaned_data),
                 _("Report signed."))
    else:
        form_errors(request, form)
    return redirect("evaluation:expert_session", pk)


# --- report ---------------------------------------------------------------------------------------------


@page_view()
def report_detail(request, pk: int):
    report, level = selectors.report_get(user=request.user, pk=pk)
    view = report_services.report_view(report, level)
    return render(request, "evaluation/report.html", {
        "report": report, "level": level, "view": view, "content": view["content"],
        "signatures": selectors.signatures_visible(request.user, report),
    })


# --- public results --------------------------------------------------------------------------------------


@page_view()
def tender_results(request, pk: int):
    tender = trading_selectors.tender_get(user=request.user, pk=pk)
    publicities = list(selectors.publicities_of(tender))
    current = publicity_services.current_publicity(tender)
    user = request.user
    return render(request, "evaluation/tender_results.html", {
        "tender": tender,
        "publicities": publicities,
        "current": current,
        "in_publicity": current is not None and publicity_services.in_publicity(tender)
        and current.starts_at <= clock.now() < current.ends_at,
        "awards": selectors.awards_of(tender),
        "contracts": selectors.contracts_of(tender),
        "is_bidder": user.is_authenticated and can(user, "publicity.object", tender),
        # The policy says who may object or complain (is_bidder); the tender table says when.
        "actions": phases.TENDER.actions(phases.tender_phase(tender), phases.REGISTERED),
        "reports": [current_report(s) for s in publicity_services.live_sessions(tender) if current_report(s)],
    })


# --- bidder: objections and complaints -----------------------------------------------------------------


@page_view("publicity.object")
def bidder_object(request, pk: int):
    tender = trading_selectors.tender_get(user=request.user, pk=pk)
    form = f.TextForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            done = _attempt(request, lambda: publicity_services.publicity_objection_raise(
                actor=request.user, tender=tender, text=form.cleaned_data["text"]),
                _("Objection raised; the reply is due within the legal period."))
            if done:
                return redirect("evaluation:bidder_status")
        else:
            form_errors(request, form)
    return render(request, "evaluation/form.html", {
        "tender": tender, "form": form,
        "heading": _("Objection to the evaluation result"),
        "intro": _("Objections are raised during the candidate publicity; the tenderer replies within 3 days and "
                   "the award waits meanwhile (招标投标法实施条例 Art 54)."),
    })


@page_view("complaint.file")
def bidder_complain(request, pk: int):
    tender = trading_selectors.tender_get(user=request.user, pk=pk)
    own = PublicityObjection.objects.filter(tender=tender, raised_by_org_id=request.user.organisation_id)
    form = f.ComplaintForm(request.POST or None, objections=own)
    if request.method == "POST":
        if form.is_valid():
            objection = own.filter(pk=form.cleaned_data["objection"]).first() if form.cleaned_data["objection"] \
                else None
            done = _attempt(request, lambda: publicity_services.complaint_file(
                actor=request.user, tender=tender, text=form.cleaned_data["text"], objection=objection),
                _("Complaint filed with the supervising department."))
            if done:
                return redirect("evaluation:bidder_status")
        else:
            form_errors(request, form)
    return render(request, "evaluation/form.html", {
        "tender": tender, "form": form, "heading": _("Complaint to the supervising department"),
        "intro": _("Within 10 days; about the evaluation result only after your objection was answered "
                   "(招标投标法实施条例 Art 60)."),
    })


@page_view("workspace.bidder")
def bidder_status(request):
    org = request.user.organisation_id
    return render(request, "evaluation/bidder_status.html", {
        "objections": PublicityObjection.objects.filter(raised_by_org_id=org).select_related("tender")
        .order_by("-raised_at"),
        "complaints": selectors.complaints_for(request.user).filter(raised_by_org_id=org),
        "now": clock.now(),
    })


# --- agent ---------------------------------------------------------------------------------------------------


def _agent_tender(request, pk: int):
    tender = trading_selectors.tender_get(user=request.user, pk=pk)
    if not (is_party(request.user, tender) or is_supervisor(request.user)):
        raise PermissionDenied
    return tender


@page_view("workspace.agent")
def agent_evaluation(request, pk: int):
    tender = _agent_tender(request, pk)
    lots = []
    failed_at_opening = set(LotOpening.objects.filter(lot__tender=tender, outcome=LotOutcome.FAILED)
                            .values_list("lot_id", flat=True))
    for lot in tender.lots.order_by("number"):
        session = selectors.live_session_of_lot(lot)
        lots.append({"lot": lot, "session": session, "progress": selectors.progress(session) if session else None,
                     "failed_at_opening": lot.pk in failed_at_opening,
                     "members": selectors.members_visible(request.user, session) if session else [],
                     "report": current_report(session) if session else None})
    return render(request, "evaluation/agent_evaluation.html", {
        "tender": tender, "lots": lots,
        "criteria": selectors.criteria_of(tender),
        "publicity": publicity_services.current_publicity(tender),
        "objections": selectors.objections_for(request.user, tender),
        "complaints": selectors.complaints_for(request.user, tender),
        "awards": selectors.awards_of(tender),
        "reply_form": f.ObjectionReplyForm(), "reason_form": f.ReasonForm(), "contract_form": f.ContractForm(),
        "now": clock.now(),
        "phase": phases.tender_phase(tender), "actions": phases.tender_actions(request.user, tender),
    })


def _post_action(request, pk: int, fn, success: str):
    _attempt(request, fn, success)
    return redirect("evaluation:agent_evaluation", pk)


@page_view("workspace.agent")
def agent_criteria(request, pk: int):
    tender = _agent_tender(request, pk)
    form = f.CriteriaForm(request.POST or None, initial=f.CriteriaForm.initial_from(selectors.criteria_of(tender)))
    if request.method == "POST":
        if form.is_valid():
            done = _attempt(request, lambda: criteria_services.criteria_set(actor=request.user, tender=tender,
                                                                            criteria=form.criteria()),
                            _("Criteria saved."))
            if done:
                return redirect("evaluation:agent_evaluation", pk)
        else:
            form_errors(request, form)
    return render(request, "evaluation/agent_criteria.html", {"tender": tender, "form": form})


@page_view("workspace.agent")
@require_POST
def agent_open(request, lot_pk: int):
    lot = trading_selectors.lot_get(user=request.user, pk=lot_pk)
    return _post_action(request, lot.tender_id, lambda: session_services.session_open(actor=request.user, lot=lot),
                        _("Evaluation opened; the committee can sign in."))


@page_view("workspace.agent")
@require_POST
def agent_replace(request, member_pk: int):
    member = selectors.member_get(user=request.user, pk=member_pk)
    form = f.ReasonForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("evaluation:agent_evaluation", member.session.tender_id)
    return _post_action(request, member.session.tender_id, lambda: session_services.member_replace(
        actor=request.user, member=member, reason=form.cleaned_data["reason"]),
        _("Member replaced; a new draw fills the seat."))


@page_view("workspace.agent")
@require_POST
def agent_publicity(request, pk: int):
    tender = _agent_tender(request, pk)
    return _post_action(request, pk, lambda: publicity_services.publicity_start(actor=request.user, tender=tender),
                        _("Candidates published."))


@page_view("workspace.agent")
@require_POST
def agent_reply(request, objection_pk: int):
    objection = selectors.objection_get(user=request.user, pk=objection_pk)
    form = f.ObjectionReplyForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("evaluation:agent_evaluation", objection.tender_id)
    return _post_action(request, objection.tender_id, lambda: publicity_services.publicity_objection_reply(
        actor=request.user, objection=objection, **form.cleaned_data), _("Reply published."))


@page_view("workspace.agent")
@require_POST
def agent_award(request, pk: int):
    tender = _agent_tender(request, pk)
    return _post_action(request, pk, lambda: award_services.award_publish(actor=request.user, tender=tender),
                        _("Award published."))


@page_view("workspace.agent")
@require_POST
def agent_decline(request, award_pk: int):
    award = selectors.award_get(pk=award_pk)
    form = f.ReasonForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("evaluation:agent_evaluation", award.tender_id)
    return _post_action(request, award.tender_id, lambda: award_services.award_decline(
        actor=request.user, award=award, reason=form.cleaned_data["reason"]), _("Refusal recorded."))


@page_view("workspace.agent")
@require_POST
def agent_award_next(request, lot_pk: int):
    lot = trading_selectors.lot_get(user=request.user, pk=lot_pk)
    return _post_action(request, lot.tender_id, lambda: award_services.award_next(actor=request.user, lot=lot),
                        _("Awarded to the next candidate."))


@page_view("workspace.agent")
@require_POST
def agent_contract(request, award_pk: int):
    award = selectors.award_get(pk=award_pk)
    form = f.ContractForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("evaluation:agent_evaluation", award.tender_id)
    return _post_action(request, award.tender_id, lambda: award_services.contract_record(
        actor=request.user, award=award, **form.cleaned_data), _("Contract recorded; deposit refunds scheduled."))


# --- supervision --------------------------------------------------------------------------------------------


@page_view("tender.supervise")
def supervisor_complaints(request):
    return render(request, "evaluation/supervisor_complaints.html", {
        "complaints": selectors.complaints_for(request.user),
        "reason_form": f.ReasonForm(), "decision_form": f.DecisionForm(), "now": clock.now(),
    })


@page_view("tender.supervise")
@require_POST
def supervisor_complaint_action(request, pk: int, action: str):
    complaint = selectors.complaint_get(user=request.user, pk=pk)
    if action == "accept":
        _attempt(request, lambda: publicity_services.complaint_accept(actor=request.user, complaint=complaint),
                 _("Complaint accepted."))
    elif action == "reject":
        form = f.ReasonForm(request.POST)
        if form.is_valid():
            _attempt(request, lambda: publicity_services.complaint_reject(actor=request.user, complaint=complaint,
                                                                          reason=form.cleaned_data["reason"]),
                     _("Complaint not accepted."))
        else:
            form_errors(request, form)
    elif action == "decide":
        form = f.DecisionForm(request.POST)
        if form.is_valid():
            _attempt(request, lambda: publicity_services.complaint_decide(actor=request.user, complaint=complaint,
                                                                          **form.cleaned_data),
                     _("Decision recorded."))
        else:
            form_errors(request, form)
    else:
        raise Http404
    return redirect("evaluation:supervisor_complaints")


@page_view("tender.supervise")
def supervisor_session(request, pk: int):
    session = selectors.session_get(user=request.user, pk=pk)
    return render(request, "evaluation/supervisor_session.html", {
        "session": session, "members": selectors.members_visible(request.user, session),
        "sheets": selectors.sheets_visible(request.user, session), "progress": selectors.progress(session),
        "report": current_report(session),
    })
