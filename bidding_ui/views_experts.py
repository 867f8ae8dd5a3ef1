"""Pages of the expert drawing (routes in bidding_ui/urls_experts.py).

Agent: request a draw and follow it (counts and statuses only). Expert: the assignment inbox and the
signed accept/decline links. Supervisor: every draw with identities, the commitment, warnings,
reveal and replay. Views are thin: forms parse, experts.services act, experts.selectors read.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.policy import authorize, can
from bidding_ui.pages import back_target, refusal_page
from config.errors import DomainError, StateConflict
from experts import selectors
from experts.models import Assignment, AssignmentStatus, Draw, DrawWarning
from experts.notify.links import token_read
from experts.replay import draw_replay
from experts.services import draws as draw_services
from experts.services.validation import DRAWABLE
from trading import phases
from trading.models import Lot

LINE_ROWS = 4


# --- agent ----------------------------------------------------------------------------------------

class DrawRequestForm(forms.Form):
    lot = forms.ModelChoiceField(queryset=Lot.objects.none(), label=gettext_lazy("Lot"))
    evaluation_start = forms.DateTimeField(label=gettext_lazy("Evaluation starts"),
                                           widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    evaluation_end = forms.DateTimeField(label=gettext_lazy("Evaluation ends"),
                                         widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=gettext_lazy("Place"), max_length=300, required=False)
    remote = forms.BooleanField(label=gettext_lazy("Remote evaluation"), required=False)
    committee_size = forms.IntegerField(label=gettext_lazy("Committee size"), min_value=1, max_value=99, initial=5)
    owner_representatives = forms.IntegerField(label=gettext_lazy("Tenderer's representatives"), min_value=0,
                                               max_value=99, initial=0)
    regions = forms.CharField(label=gettext_lazy("Regions (division codes, comma separated; empty = all)"),
                              max_length=300, required=False)

    def __init__(self, *args, user=None, specialties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = (Lot.objects.select_related("tender")
                                       .filter(tender__agent_id=getattr(user, "organisation_id", None),
                                               tender__status__in=DRAWABLE)
                                       .order_by("-tender__created_at", "number"))
        self.fields["lot"].label_from_instance = lambda lot: f"{lot.tender.code} · {lot.number} {lot.title}"
        choices = [("", "—")] + [(s.code, f"{s.code} {s.name}") for s in specialties]
        for i in range(LINE_ROWS):
            self.fields[f"line{i}_specialty"] = forms.ChoiceField(choices=choices, required=i == 0,
                                                                  label=gettext_lazy("Specialty"))
            self.fields[f"line{i}_count"] = forms.IntegerField(min_value=0, max_value=99, required=False,
                                                               label=gettext_lazy("Members"))
            self.fields[f"line{i}_reserves"] = forms.IntegerField(min_value=0, max_value=99, required=False,
                                                                  label=gettext_lazy("Reserves"))

    def line_rows(self):
        return [(self[f"line{i}_specialty"], self[f"line{i}_count"], self[f"line{i}_reserves"])
                for i in range(LINE_ROWS)]

    def request_data(self) -> dict:
        data = self.cleaned_data
        lines = [{"specialty": data[f"line{i}_specialty"], "count": data[f"line{i}_count"] or 0,
                  "reserves": data[f"line{i}_reserves"] or 0}
                 for i in range(LINE_ROWS) if data.get(f"line{i}_specialty")]
        regions = [r.strip() for r in (data.get("regions") or "").replace("，", ",").split(",") if r.strip()]
        return {"evaluation_start": data["evaluation_start"], "evaluation_end": data["evaluation_end"],
                "place": data["place"], "remote": data["remote"], "committee_size": data["committee_size"],
                "owner_representatives": data["owner_representatives"], "lines": lines, "regions": regions}


@login_required
def agent_draws(request):
    draws = selectors.draws_for(request.user)[:200]
    return render(request, "experts/agent_draws.html", {"draws": draws})


@login_required
@refusal_page
@require_http_methods(["GET", "POST"])
def agent_draw_new(request):
    form = DrawRequestForm(request.POST or None, user=request.user, specialties=selectors.specialties(),
                           initial={"lot": request.GET.get("lot")})
    if request.method == "POST" and form.is_valid():
        lot = form.cleaned_data["lot"]
        authorize(request.user, "draw.create", lot.tender)
        try:
            draw = draw_services.draw_start(actor=request.user, lot=lot, **form.request_data())
        except DomainError as exc:
            if exc.status == 403:
                raise
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The committee has been drawn; the experts are being called."))
            return redirect("experts:agent_draw", pk=draw.pk)
    return render(request, "experts/agent_draw_form.html", {"form": form})


@login_required
@refusal_page
def agent_draw(request, pk: int):
    draw = get_object_or_404(Draw.objects.select_related("tender", "lot"), pk=pk)
    authorize(request.user, "draw.view", draw)
    view = selectors.draw_view(request.user, draw)
    return render(request, "experts/agent_draw.html", {"view": view, "draw": draw,
                                                       "can_cancel": can(request.user, "draw.cancel", draw)})


@login_required
@refusal_page
@require_POST
def agent_draw_cancel(request, pk: int):
    draw = get_object_or_404(Draw, pk=pk)
    authorize(request.user, "draw.view", draw)
    draw_services.draw_cancel(actor=request.user, draw=draw, reason=request.POST.get("reason", "")[:500])
    messages.success(request, _("The draw has been cancelled."))
    return redirect("experts:agent_draw", pk=pk)


# --- expert -----------------------------------------------------------------------------------------

@login_required
def expert_inbox(request):
    expert = selectors.expert_for_user(request.user)
    assignments = list(selectors.inbox_for(request.user)[:100])
    for a in assignments:  # what each seat offers in its tender's phase (trading/phases.py, PANEL)
        a.actions = phases.panel_actions(a)
    return render(request, "experts/expert_inbox.html", {
        "expert": expert, "assignments": assignments, "now": timezone.now(),
        "open_status": AssignmentStatus.NOTIFIED, "accepted_status": AssignmentStatus.ACCEPTED})


@login_required
@refusal_page
@require_POST
def expert_answer(request, pk: int, decision: str):
    assignment = get_object_or_404(Assignment, pk=pk)
    authorize(request.user, "assignment.view", assignment)
    if decision in ("accept", "decline", "leave") and decision not in phases.panel_actions(assignment):
        raise StateConflict(_("This seat no longer offers that: the tender has moved on (%(phase)s).")
                            % {"phase": phases.tender_phase_label(assignment.draw.tender)}, code="wrong_phase")
    if decision == "leave":
        draw_services.assignment_leave(actor=request.user, assignment=assignment,
                                       reason=request.POST.get("reason", "")[:300] or "left")
        messages.success(request, _("You have left the panel; the seat goes to another expert."))
    else:
        draw_services.assignment_respond(actor=request.user, assignment=assignment, accept=decision == "accept",
                                         via="web")
        messages.success(request, _("Thank you: your answer has been recorded."))
    return redirect("experts:inbox")


@refusal_page
@require_http_methods(["GET", "POST"])
def expert_respond(request, token: str):
    """The signed link from the SMS or email: GET shows a confirmation (link previews must not answer),
    POST records the answer. No login: the signed token is the authority."""
    assignment, decision = token_read(token)
    if request.method == "POST":
        try:
            draw_services.assignment_respond(actor="system", assignment=assignment, accept=decision == "accept",
                                             via="link")
        except DomainError as exc:
            return render(request, "experts/expert_respond.html",
                          {"assignment": assignment, "decision": decision, "error": exc.message}, status=exc.status)
        assignment.refresh_from_db()
        return render(request, "experts/expert_respond.html", {"assignment": assignment, "decision": decision,
                                                               "done": True})
    return render(request, "experts/expert_respond.html", {"assignment": assignment, "decision": decision,
                                                           "open": assignment.status == AssignmentStatus.NOTIFIED})


# --- supervisor ----------------------------------------------------------------------------------------

@login_required
@refusal_page
def supervisor_draws(request):
    authorize(request.user, "draw.supervise")
    return render(request, "experts/supervisor_draws.html", {
        "draws": selectors.draws_for(request.user)[:200], "warnings": selectors.warnings_open()[:100]})


@login_required
@refusal_page
def supervisor_draw(request, pk: int):
    draw = get_object_or_404(Draw.objects.select_related("tender", "lot", "requested_by"), pk=pk)
    authorize(request.user, "draw.supervise", draw)
    view = selectors.draw_view(request.user, draw)
    return render(request, "experts/supervisor_draw.html", {"view": view, "draw": draw})


@login_required
@refusal_page
@require_POST
def supervisor_draw_action(request, pk: int, action: str):
    draw = get_object_or_404(Draw, pk=pk)
    authorize(request.user, "draw.supervise", draw)
    if action == "reveal":
        outcome = draw_services.panel_reveal(actor=request.user, draw=draw)
        if outcome.revealed:
            messages.success(request, _("The panel has been revealed."))
        else:
            messages.warning(request, _("%(n)s member(s) now conflict with a bidder and were replaced; reveal again "
                                        "once the new experts have answered.") % {"n": outcome.removed})
    elif action == "reveal-seed":
        draw_services.draw_reveal_seed(actor=request.user, draw=draw)
        messages.success(request, _("The seed has been published; anyone can now replay the draw."))
    elif action == "cancel":
        draw_services.draw_cancel(actor=request.user, draw=draw, reason=request.POST.get("reason", "")[:500])
        messages.success(request, _("The draw has been cancelled."))
    return redirect("experts:supervisor_draw", pk=pk)


@login_required
@refusal_page
@require_POST
def supervisor_warning_ack(request, pk: int):
    warning = get_object_or_404(DrawWarning.objects.select_related("draw"), pk=pk)
    draw_services.warning_acknowledge(actor=request.user, warning=warning)
    return redirect(back_target(request) or "experts:supervisor_draws")


@login_required
@refusal_page
def supervisor_draw_replay(request, pk: int):
    draw = get_object_or_404(Draw.objects.select_related("tender", "lot"), pk=pk)
    authorize(request.user, "draw.supervise", draw)
    result = draw_replay(draw)
    return render(request, "experts/supervisor_replay.html", {"draw": draw, "result": result},
                  status=200 if result.ok else 409)


# --- public draw record (docs/experts.md "Public draw record") ----------------------------------------

def draw_record(request, pk: int):
    """Anyone: the published record of a draw, re-run here from the record alone (no stored state)."""
    from django.http import Http404

    from experts.publication import RecordMismatch, draw_public_record, record_recompute

    draw = Draw.objects.filter(pk=pk).select_related("tender", "lot").first()
    if draw is None or not can(request.user, "draw.view_record", draw):
        raise Http404(_("No published draw record with this id."))
    record = draw_public_record(draw)
    try:
        result, problem = record_recompute(record), ""
    except (RecordMismatch, KeyError, TypeError, ValueError) as exc:
        result, problem = None, str(exc)
    return render(request, "experts/draw_record.html", {
        "draw": draw, "record": record, "result": result, "problem": problem})
