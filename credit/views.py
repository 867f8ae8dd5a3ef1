"""Credit pages (routes in credit/urls_pages.py): the public query (by organisation name or USCC), a
record with its decision trail, the subject's appeal and repair, the supervisor's desk."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.policy import authorize, can
from config.errors import DomainError
from credit import selectors, services
from credit.models import CreditRequest, RecordStatus, RequestStatus
from credit.rules import Severity


def query(request):
    q = request.GET.get("q", "")[:200]
    return render(request, "credit/query.html", {"q": q, "records": selectors.records_public(q=q)[:200]})


def _record(request, number):
    try:
        return selectors.record_get(request.user, number)
    except DomainError:
        return None


def record_detail(request, number: str):
    record = _record(request, number)
    if record is None:
        return render(request, "credit/refused.html", {"message": _("No published credit record with this number.")},
                      status=404)
    return render(request, "credit/record.html", {
        "record": record, "decisions": record.decisions.all(), "requests": record.requests.all(),
        "may_request": record.status == RecordStatus.PUBLISHED and can(request.user, "credit.request", record),
        "may_decide": can(request.user, "credit.decide", record), "severities": Severity.choices,
        "open_requests": record.requests.filter(status=RequestStatus.OPEN)})


def _act(request, number: str, fn) -> object:
    try:
        fn()
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("credit-record", number=number)


@login_required
@require_POST
def record_decide(request, number: str):
    record = _record(request, number)
    if record is None:
        return redirect("credit-query")
    return _act(request, number, lambda: services.record_decide(
        actor=request.user, record=record, publish=request.POST.get("publish") == "1",
        reason=request.POST.get("reason", ""), severity=request.POST.get("severity") or None))


@login_required
@require_POST
def record_request(request, number: str):
    record = _record(request, number)
    if record is None:
        return redirect("credit-query")
    return _act(request, number, lambda: services.request_submit(
        actor=request.user, record=record, kind=request.POST.get("kind", ""), text=request.POST.get("text", "")))


@login_required
@require_POST
def request_decide(request, pk: int):
    made = get_object_or_404(CreditRequest.objects.select_related("record"), pk=pk)
    return _act(request, made.record.number, lambda: services.request_decide(
        actor=request.user, request=made, grant=request.POST.get("grant") == "1",
        reason=request.POST.get("reason", "")))


@login_required
def supervise(request):
    authorize(request.user, "credit.decide")
    return render(request, "credit/supervise.html", {
        "proposed": selectors.records_for(request.user, status=RecordStatus.PROPOSED)[:200],
        "requests": CreditRequest.objects.filter(status=RequestStatus.OPEN).select_related("record")[:200]})
