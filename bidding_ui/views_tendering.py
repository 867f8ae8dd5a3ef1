"""Tendering pages: the public portal, the agent's and the bidder's workspaces, supervision.

Thin views: a form parses input, one service or selector does the work, a
template renders it. Refusals from services (DomainError) are shown to the user;
sealing comes from trading/visibility.py only.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.policy import can
from bidding_ui.page_cache import cache_until, public_page
from bidding_ui.pages import PAGE_SIZE, page_view, paginate
from bidding_ui.pages import attempt as _attempt
from bidding_ui.pages import form_errors as _form_errors
from config.errors import DomainError, NotPermitted
from trading import clock, phases, selectors, visibility
from trading.forms import (
    AmendmentForm,
    AnswerForm,
    DocumentForm,
    LotForm,
    NoticeFilterForm,
    ObjectionForm,
    PublishForm,
    QuestionForm,
    ReplyForm,
    ResultNoticeForm,
    TenderForm,
)
from trading.models import RESULT_KINDS, Lot, TenderStatus
from trading.services import documents as document_services
from trading.services import notices as notice_services
from trading.services import objections as objection_services
from trading.services import questions as question_services
from trading.services import registrations as registration_services
from trading.services import tenders as tender_services
from trading.services.deposit_hook import deposit_instructions


def _page(request, queryset):
    return paginate(request, queryset, PAGE_SIZE)


# --- public portal --------------------------------------------------------------------------------


@public_page
@page_view()
def notice_list(request):
    form = NoticeFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    notices = selectors.notices_public(
        q=filters.get("q", ""),
        kind=filters.get("kind", ""),
        procedure_type=filters.get("procedure_type", ""),
        status=filters.get("status", ""),
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tendering/notice_list.html",
        {"form": form, "page": _page(request, notices), "query": query.urlencode(), "heading": _("Notices")},
    )


@public_page
@page_view()
def results(request):
    notices = selectors.notices_public(kinds=RESULT_KINDS)
    return render(
        request,
        "tendering/notice_list.html",
        {"form": None, "page": _page(request, notices), "query": "", "heading": _("Results")},
    )


@public_page
@page_view()
def notice_detail(request, pk: int):
    notice = selectors.notice_get(pk=pk)
    return render(request, "tendering/notice_detail.html", {"notice": notice})


@public_page
@page_view()
def tender_detail(request, pk: int):
    user = request.user
    tender = selectors.tender_get(user=user, pk=pk)
    lots = list(tender.lots.all())
    for lot in lots:
        lot.max_deposit = tender.rules.max_deposit(lot.estimated_price)
    questions = [q for q in visibility.questions_for(user, tender) if q.published]
    # A cached anonymous rendering never outlives the deadline (sealed counts open there).
    return cache_until(render(
        request,
        "tendering/tender_detail.html",
        {
            "tender": tender,
            "lots": lots,
            "documents": selectors.documents_of(tender=tender),
            "questions": questions,
            "notices": selectors.notices_public(tender_id=tender.pk).order_by("version"),
            "counts": visibility.tender_counts(user, tender),
            "is_bidder": can(user, "workspace.bidder"),
            "can_manage": can(user, "tender.manage", tender),
            "now": clock.now(),
            "phase": phases.tender_phase(tender),
            "actions": phases.tender_actions(user, tender),
            "registered_lots": set(tender.registrations.filter(
                bidder_id=user.organisation_id, status="registered").values_list("lot_id", flat=True))
            if user.is_authenticated and user.organisation_id else set(),
        },
    ), tender.bid_deadline)


@page_view()
def document_download(request, pk: int):
    from trading.api.views import client_ip, document_response

    doc = selectors.document_get(user=request.user, pk=pk)
    try:
        document_services.document_download_record(user=request.user, document=doc, ip=client_ip(request))
    except NotPermitted:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("tendering:tender_detail", pk=doc.tender_id)
    return document_response(doc)


# --- agent workspace ---------------------------------------------------------------------------------


@page_view("workspace.agent")
def agent_home(request):
    tenders = selectors.tenders_of_org(org_id=request.user.organisation_id)
    return render(
        request,
        "tendering/agent_home.html",
        {"page": _page(request, tenders), "can_create": can(request.user, "tender.create")},
    )


@page_view("workspace.agent")
def agent_tender_new(request):
    if not can(request.user, "tender.create"):
        raise PermissionDenied
    form = TenderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = {}

        def create():
            created["tender"] = tender_services.tender_create(actor=request.user, **form.cleaned_data)

        if _attempt(request, create, _("Draft created.")):
            return redirect("tendering:agent_tender", pk=created["tender"].pk)
    return render(request, "tendering/agent_tender_form.html", {"form": form, "tender": None})


@page_view("workspace.agent")
def agent_tender_edit(request, pk: int):
    tender = selectors.tender_get(user=request.user, pk=pk)
    if not can(request.user, "tender.edit", tender):
        raise PermissionDenied
    if tender.status != TenderStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited; publish an amendment instead."))
        return _back(tender)
    form = TenderForm(request.POST or None, initial=TenderForm.initial_from(tender))
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        if _attempt(
            request,
            lambda: tender_services.tender_update(actor=request.user, tender=tender, **changes),
            _("Draft saved."),
        ):
            return redirect("tendering:agent_tender", pk=tender.pk)
    return render(request, "tendering/agent_tender_form.html", {"form": form, "tender": tender})


def _manage_context(request, tender, **forms) -> dict:
    user = request.user
    problems = tender_services.publish_problems(tender) if tender.status == TenderStatus.DRAFT else []
    objections = list(visibility.objections_for(user, tender))
    now = clock.now()
    for o in objections:
        o.author = visibility.objection_author(user, o)
        o.overdue = o.is_overdue(now)
    lots = list(tender.lots.all())
    for lot in lots:
        lot.max_deposit = tender.rules.max_deposit(lot.estimated_price)
    actions = phases.tender_actions(user, tender, now)
    result_kinds = phases.result_notice_kinds(tender, now)
    proposal = None
    if "amend" in actions:
        proposal = notice_services.amendment_proposal(tender=tender, affects_preparation=True, at=now)
    documents = list(selectors.documents_of(tender=tender, include_superseded=True))
    for doc in documents:
        doc.visible_downloads = visibility.download_count(user, tender, doc)
    return {
        "tender": tender,
        "lots": lots,
        "now": now,
        "documents": documents,
        "notices": selectors.notices_public(tender_id=tender.pk).order_by("version"),
        "questions": visibility.questions_for(user, tender),
        "objections": objections,
        "problems": problems,
        "counts": visibility.tender_counts(user, tender),
        "registrations": visibility.registrations_for(user, tender)
        if visibility.registrations_visible(user, tender)
        else None,
        "can_manage": can(user, "tender.manage", tender),
        "can_edit": can(user, "tender.edit", tender),
        "can_reply": can(user, "tender.reply_objection", tender),
        "proposal": proposal,
        "lot_form": forms.get("lot_form") or LotForm(),
        "document_form": forms.get("document_form") or DocumentForm(),
        "publish_form": forms.get("publish_form") or PublishForm(),
        "result_form": forms.get("result_form") or ResultNoticeForm(kinds=result_kinds),
        "result_kinds": result_kinds,
        "phase": phases.tender_phase(tender, now),
        "actions": actions,
        "answer_form": AnswerForm(),
        "reply_form": ReplyForm(),
    }


def _party_tender(request, pk):
    tender = selectors.tender_get(user=request.user, pk=pk)
    if not (can(request.user, "tender.manage", tender) or can(request.user, "tender.reply_objection", tender)):
        raise PermissionDenied
    return tender


@page_view("workspace.agent")
def agent_tender(request, pk: int):
    tender = _party_tender(request, pk)
    return render(request, "tendering/agent_tender.html", _manage_context(request, tender))


def _back(tender):
    return redirect("tendering:agent_tender", pk=tender.pk)


@require_POST
@page_view("workspace.agent")
def agent_lot_add(request, pk: int):
    tender = _party_tender(request, pk)
    form = LotForm(request.POST)
    if form.is_valid():
        if _attempt(
            request,
            lambda: tender_services.lot_create(actor=request.user, tender=tender, **form.cleaned_data),
            _("Lot added."),
        ):
            return _back(tender)
    else:
        _form_errors(request, form)
    return render(request, "tendering/agent_tender.html", _manage_context(request, tender, lot_form=form), status=400)


@page_view("workspace.agent")
def agent_lot_edit(request, pk: int):
    lot = selectors.lot_get(user=request.user, pk=pk)
    tender = _party_tender(request, lot.tender_id)
    form = LotForm(
        request.POST or None,
        initial={"title": lot.title, "estimated_price": lot.estimated_price, "deposit_amount": lot.deposit_amount},
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and _attempt(
            request,
            lambda: tender_services.lot_update(actor=request.user, lot=lot, **form.cleaned_data),
            _("Lot saved."),
        )
    ):
        return _back(tender)
    return render(
        request,
        "tendering/agent_lot_form.html",
        {"form": form, "lot": lot, "tender": tender, "max_deposit": tender.rules.max_deposit(lot.estimated_price)},
    )


@require_POST
@page_view("workspace.agent")
def agent_lot_delete(request, pk: int):
    lot = selectors.lot_get(user=request.user, pk=pk)
    _attempt(request, lambda: tender_services.lot_delete(actor=request.user, lot=lot), _("Lot deleted."))
    return redirect("tendering:agent_tender", pk=lot.tender_id)


@require_POST
@page_view("workspace.agent")
def agent_document_upload(request, pk: int):
    tender = _party_tender(request, pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        if _attempt(
            request,
            lambda: document_services.document_upload(
                actor=request.user,
                tender=tender,
                file=form.cleaned_data["file"],
                name=form.cleaned_data["name"] or None,
                amendment_title=form.cleaned_data["amendment_title"],
                amendment_body=form.cleaned_data["amendment_body"],
                new_deadline=form.cleaned_data["new_deadline"],
            ),
            _("Document uploaded."),
        ):
            return _back(tender)
    else:
        _form_errors(request, form)
    return render(
        request, "tendering/agent_tender.html", _manage_context(request, tender, document_form=form), status=400
    )


@require_POST
@page_view("workspace.agent")
def agent_document_withdraw(request, pk: int):
    doc = selectors.document_get(user=request.user, pk=pk)
    _attempt(
        request, lambda: document_services.document_withdraw(actor=request.user, document=doc), _("Document withdrawn.")
    )
    return redirect("tendering:agent_tender", pk=doc.tender_id)


@require_POST
@page_view("workspace.agent")
def agent_publish(request, pk: int):
    tender = _party_tender(request, pk)
    form = PublishForm(request.POST)
    if form.is_valid() and _attempt(
        request,
        lambda: tender_services.tender_publish(actor=request.user, tender=tender, **form.cleaned_data),
        _("The tender notice is published."),
    ):
        return _back(tender)
    tender.refresh_from_db()
    return render(
        request, "tendering/agent_tender.html", _manage_context(request, tender, publish_form=form), status=400
    )


@require_POST
@page_view("workspace.agent")
def agent_withdraw_draft(request, pk: int):
    tender = _party_tender(request, pk)
    _attempt(
        request,
        lambda: tender_services.tender_cancel_draft(actor=request.user, tender=tender),
        _("The draft is withdrawn."),
    )
    return _back(tender)


@page_view("workspace.agent")
def agent_amendment(request, pk: int):
    """Amendment form; the platform shows (and pre-fills) the deadline the 15-day rule requires."""
    tender = _party_tender(request, pk)
    if not can(request.user, "tender.manage", tender):
        raise PermissionDenied
    proposal = notice_services.amendment_proposal(tender=tender, affects_preparation=True)
    if request.method == "GET":
        initial = {"affects_preparation": True}
        if proposal.required:
            initial["new_deadline"] = timezone.localtime(proposal.proposed_deadline)
        form = AmendmentForm(initial=initial)
        return render(request, "tendering/agent_amendment.html", {"form": form, "tender": tender, "proposal": proposal})
    form = AmendmentForm(request.POST)
    if form.is_valid() and _attempt(
        request,
        lambda: notice_services.amendment_publish(actor=request.user, tender=tender, **form.cleaned_data),
        _("The notice is published."),
    ):
        return _back(tender)
    if form.is_valid() and proposal.required and not form.cleaned_data.get("new_deadline"):
        data = request.POST.copy()  # offer the proposed deadline for the next submission
        data["new_deadline"] = timezone.localtime(proposal.proposed_deadline).strftime("%Y-%m-%dT%H:%M:%S")
        form = AmendmentForm(data)
        form.is_valid()
    return render(
        request, "tendering/agent_amendment.html", {"form": form, "tender": tender, "proposal": proposal}, status=400
    )


@require_POST
@page_view("workspace.agent")
def agent_result_notice(request, pk: int):
    tender = _party_tender(request, pk)
    form = ResultNoticeForm(request.POST, kinds=phases.result_notice_kinds(tender))
    if form.is_valid():
        if _attempt(
            request,
            lambda: notice_services.result_notice_publish(actor=request.user, tender=tender, **form.cleaned_data),
            _("The notice is published."),
        ):
            return _back(tender)
    else:
        _form_errors(request, form)
    return render(
        request, "tendering/agent_tender.html", _manage_context(request, tender, result_form=form), status=400
    )


@require_POST
@page_view("workspace.agent")
def agent_answer(request, pk: int):
    question = selectors.question_get(user=request.user, pk=pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        _attempt(
            request,
            lambda: question_services.question_answer(
                actor=request.user, question=question, answer=form.cleaned_data["answer"]
            ),
            _("The answer is published."),
        )
    else:
        _form_errors(request, form)
    return redirect("tendering:agent_tender", pk=question.tender_id)


@require_POST
@page_view("workspace.agent")
def agent_objection_reply(request, pk: int):
    objection = selectors.objection_get(user=request.user, pk=pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        _attempt(
            request,
            lambda: objection_services.objection_reply(
                actor=request.user, objection=objection, reply=form.cleaned_data["reply"]
            ),
            _("The reply is sent."),
        )
    else:
        _form_errors(request, form)
    return redirect("tendering:agent_tender", pk=objection.tender_id)


# --- bidder workspace -----------------------------------------------------------------------------------


def _registration_facts(registrations, org_id, now) -> list:
    """Each registration with what its page and "My registrations" say about it now: the label of its
    phase (trading/phases.py, REGISTRATION), the actions offered, the bid and the deposit status."""
    from trading.evaluation.models import Award, AwardStatus
    from trading.models import Bid, BidStatus
    from trading.models.deposit import DepositAccount

    registrations = list(registrations)
    lot_ids = [r.lot_id for r in registrations]
    bids = {}
    for bid in Bid.objects.filter(bidder_id=org_id, lot_id__in=lot_ids).order_by("received_at", "pk"):
        if bid.status == BidStatus.ACTIVE or bid.lot_id not in bids:
            bids[bid.lot_id] = bid
    won = set(Award.objects.filter(lot_id__in=lot_ids, bid__bidder_id=org_id)
              .exclude(status=AwardStatus.DECLINED).values_list("lot_id", flat=True))
    accounts = {a.registration_id: a for a in DepositAccount.objects.filter(registration__in=registrations)}
    for reg in registrations:
        reg.phase = phases.registration_phase(reg, now)
        reg.phase_label = phases.registration_label(reg, now, won=reg.lot_id in won)
        reg.actions = phases.registration_actions(reg, now)
        reg.bid = bids.get(reg.lot_id)
        reg.account = accounts.get(reg.pk)
    return registrations


@page_view("workspace.bidder")
def bidder_home(request):
    org_id = request.user.organisation_id
    now = clock.now()
    registered = set(
        selectors.registrations_of_org(org_id=org_id).filter(status="registered").values_list("lot_id", flat=True)
    )
    tenders = [t for t in selectors.tenders_open_for_bidding().prefetch_related("lots")[:100]
               if phases.TENDER.allows(phases.tender_phase(t, now), phases.BIDDER, "register")]
    return render(
        request,
        "tendering/bidder_home.html",
        {
            "tenders": tenders,
            "registered": registered,
            "registrations": _registration_facts(selectors.registrations_of_org(org_id=org_id)[:200], org_id, now),
            "questions": selectors.questions_of_org(org_id=org_id),
            "objections": selectors.objections_of_org(org_id=org_id),
            "now": now,
        },
    )


@require_POST
@page_view("workspace.bidder")
def bidder_register(request, pk: int):
    lot: Lot = selectors.lot_get(user=request.user, pk=pk)
    created = {}

    def register():
        created["registration"], _instructions = registration_services.registration_create(actor=request.user, lot=lot)

    if _attempt(request, register, _("Registered. Pay the deposit as instructed below.")):
        return redirect("tendering:bidder_registration", pk=created["registration"].public_id)
    return redirect("tendering:tender_detail", pk=lot.tender_id)


@page_view("workspace.bidder")
def bidder_registration(request, pk):
    registration = selectors.registration_get(user=request.user, public_id=pk)
    now = clock.now()
    (registration,) = _registration_facts([registration], registration.bidder_id, now)
    return render(
        request,
        "tendering/bidder_registration.html",
        {"registration": registration, "instructions": deposit_instructions(registration), "now": now,
         "actions": registration.actions},
    )


@require_POST
@page_view("workspace.bidder")
def bidder_registration_withdraw(request, pk):
    registration = selectors.registration_get(user=request.user, public_id=pk)
    _attempt(
        request,
        lambda: registration_services.registration_withdraw(actor=request.user, registration=registration),
        _("Registration withdrawn."),
    )
    return redirect("tendering:bidder_home")


def _bidder_text(request, pk, form_class, service, heading, success):
    tender = selectors.tender_get(user=request.user, pk=pk)
    form = form_class(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and _attempt(
            request, lambda: service(actor=request.user, tender=tender, text=form.cleaned_data["text"]), success
        )
    ):
        return redirect("tendering:bidder_home")
    return render(
        request,
        "tendering/bidder_text_form.html",
        {"form": form, "tender": tender, "heading": heading},
        status=400 if request.method == "POST" else 200,
    )


@page_view("workspace.bidder")
def bidder_ask(request, pk: int):
    return _bidder_text(
        request,
        pk,
        QuestionForm,
        question_services.question_ask,
        _("Ask a question"),
        _("Your question is sent. The agent does not see who asked it."),
    )


@page_view("workspace.bidder")
def bidder_object(request, pk: int):
    return _bidder_text(
        request,
        pk,
        ObjectionForm,
        objection_services.objection_raise,
        _("Raise an objection to the tender documents"),
        _("Your objection is registered; the tender is suspended until it is answered."),
    )


# --- supervision --------------------------------------------------------------------------------------------


@page_view("tender.supervise")
def supervisor_tenders(request):
    user = request.user
    tenders = list(selectors.tenders_public().order_by("bid_deadline")[:200])
    for t in tenders:
        t.counts = visibility.tender_counts(user, t)
        t.open_objections = selectors.objections_open_for_tender(tender=t).count()
    return render(
        request,
        "tendering/supervisor_tenders.html",
        {"tenders": tenders, "overdue": selectors.objections_overdue(), "now": clock.now()},
    )


@page_view("tender.supervise")
def supervisor_tender(request, pk: int):
    user = request.user
    tender = selectors.tender_get(user=user, pk=pk)
    now = clock.now()
    questions = list(visibility.questions_for(user, tender))
    for q in questions:
        q.author = visibility.question_author(user, q)
    objections = list(visibility.objections_for(user, tender))
    for o in objections:
        o.author = visibility.objection_author(user, o)
        o.overdue = o.is_overdue(now)
    return render(
        request,
        "tendering/supervisor_tender.html",
        {
            "tender": tender,
            "registrations": visibility.registrations_for(user, tender),
            "downloads": visibility.downloads_for(user, tender)[:500],
            "questions": questions,
            "objections": objections,
            "counts": visibility.tender_counts(user, tender),
            "now": now,
            "steps": tender.scheduled_steps.all(),
        },
    )
