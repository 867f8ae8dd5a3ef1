"""Pages of the fixed-price comparison (routes in smallworks/urls_pages.py): the public list and notice,
the qualification result, the live drawing room, the drawing record; the enterprise's registration,
confirmation and objection; the agent's review and actions. Views are thin: services act."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.policy import can
from config.errors import DomainError
from smallworks import selectors, services
from smallworks.models import Entry, Pick, PickStatus, Project, ProjectStatus
from smallworks.publication import RecordMismatch, drawing_public_record, record_recompute


def _refusals(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            if request.method == "POST" and "pk" in kwargs and exc.status != 404:
                messages.error(request, exc.message)  # back to the project page, with the refusal
                return redirect("smallworks-project", pk=kwargs["pk"])
            return render(request, "smallworks/refused.html", {"message": exc.message}, status=exc.status)

    return wrapper


def _project(request, pk) -> Project:
    project = get_object_or_404(Project.objects.select_related("tenderer", "agent", "contractor"), public_id=pk)
    if project.status == ProjectStatus.DRAFT and not can(request.user, "fixed_price.manage", project):
        raise DomainError(_("No published fixed-price project with this id."), status=404)
    return project


def project_list(request):
    return render(request, "smallworks/list.html", {"projects": selectors.projects_for(request.user)[:200]})


class EntryForm(forms.Form):
    documents = forms.FileField(label=gettext_lazy("Qualification documents (PDF)"))
    relation_declared = forms.CharField(label=gettext_lazy("Relations with the tenderer (leave empty if none)"),
                                        max_length=300, required=False)


@_refusals
def project_detail(request, pk):
    project = _project(request, pk)
    user = request.user
    drawing = selectors.drawing_of(project)
    org_id = getattr(user, "organisation_id", None)
    entries = list(project.entries.filter(withdrawn_at__isnull=True).select_related("organisation"))
    sees_entries = can(user, "fixed_price.view_entries", project) or project.reviewed_at is not None
    for e in entries:
        e.deposit = services.deposit_status(e)
    mine = next((e for e in entries if org_id and e.organisation_id == org_id), None)
    picks = list(drawing.picks.select_related("organisation")) if drawing and drawing.drawn_at else []
    return render(request, "smallworks/detail.html", {
        "project": project, "entries": entries if sees_entries else [], "entry_count": len(entries),
        "mine": mine, "picks": picks, "my_pick": next((p for p in picks if org_id and p.organisation_id == org_id
                                                      and p.status == PickStatus.CALLED), None),
        "drawing": drawing, "manage": can(user, "fixed_price.manage", project),
        "supervise": can(user, "fixed_price.supervise", project),
        "may_register": services.registration_open(project) and can(user, "fixed_price.register", project)
        and mine is None, "form": EntryForm(),
        "may_object": project.status == ProjectStatus.REVIEWED and mine is not None,
        "warnings": project.warnings.all() if can(user, "fixed_price.supervise", project) else [],
    })


@login_required
@require_POST
@_refusals
def project_register(request, pk):
    project = _project(request, pk)
    form = EntryForm(request.POST, request.FILES)
    if not form.is_valid():
        raise DomainError(_("Attach the documents the qualification conditions ask for."))
    services.entry_register(actor=request.user, project=project, documents=request.FILES.getlist("documents"),
                            relation_declared=form.cleaned_data["relation_declared"])
    messages.success(request, _("Registered. Pay the deposit from your basic account to the account shown."))
    return redirect("smallworks-project", pk=pk)


ACTIONS = {
    "publish": services.project_publish,
    "review_publish": services.review_publish,
    "contract": services.contract_record,
    "complete": services.project_complete,
}


@login_required
@require_POST
@_refusals
def project_action(request, pk, action: str):
    project = _project(request, pk)
    if action == "draw":
        services.drawing_start(actor=request.user, project=project)
        return redirect("smallworks-room", pk=pk)
    if action not in ACTIONS:
        raise DomainError(_("Unknown action."), status=404)
    ACTIONS[action](actor=request.user, project=project)
    messages.success(request, _("Done."))
    return redirect("smallworks-project", pk=pk)


@login_required
@require_POST
@_refusals
def entry_review(request, pk, entry_id: int):
    entry = get_object_or_404(Entry.objects.select_related("project"), pk=entry_id, project__public_id=pk)
    services.entry_review(actor=request.user, entry=entry, passed=request.POST.get("passed") == "1",
                          reasons=request.POST.get("reasons", ""), relation_found=request.POST.get("relation", ""))
    return redirect("smallworks-project", pk=pk)


@login_required
@require_POST
@_refusals
def objection_raise(request, pk):
    services.objection_raise(actor=request.user, project=_project(request, pk), text=request.POST.get("text", ""))
    messages.success(request, _("Your objection was sent; the agent answers it before the drawing."))
    return redirect("smallworks-project", pk=pk)


@login_required
@require_POST
@_refusals
def pick_answer(request, pk, pick_id: int, answer: str):
    pick = get_object_or_404(Pick, pk=pick_id, drawing__project__public_id=pk)
    if answer == "confirm":
        services.pick_confirm(actor=request.user, pick=pick)
        messages.success(request, _("Confirmed and signed: the result is now in publicity."))
    elif answer == "refuse":
        services.pick_refuse(actor=request.user, pick=pick)
    else:
        raise DomainError(_("Unknown action."), status=404)
    return redirect("smallworks-project", pk=pk)


@_refusals
def drawing_room(request, pk):
    project = _project(request, pk)
    return render(request, "smallworks/room.html", {
        "project": project, "state": selectors.room_state(project, request.user),
        "supervise": can(request.user, "fixed_price.supervise", project)})


@_refusals
def drawing_record(request, pk):
    project = _project(request, pk)
    drawing = selectors.drawing_of(project)
    if drawing is None or drawing.drawn_at is None:
        raise DomainError(_("This project is not drawn yet."), status=404)
    record = drawing_public_record(drawing)
    try:
        recomputed, problem = record_recompute(record), ""
    except RecordMismatch as exc:
        recomputed, problem = None, str(exc)
    names = {p["organisation"]: p["name"] for p in record["pool"]}
    return render(request, "smallworks/record.html", {
        "project": project, "record": record, "ok": recomputed is not None, "problem": problem,
        "sequence": [dict(row, name=names.get(row["organisation"], "")) for row in record["sequence"]]})
