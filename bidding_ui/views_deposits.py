"""Deposit pages: the bidder's deposits, the platform administrator's desk (suspense list,
statements and reconciliation, refunds for the bank, trusted guarantee issuers), and the
supervisors' view (warnings, every tender's deposit list).

Thin views: one service or selector per action; sealing comes from the policy rules in
trading/deposits/policies.py through the selectors; refusals (DomainError) are shown as messages.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.policy import can
from bidding_ui.pages import attempt as _attempt
from bidding_ui.pages import page_view, paginate
from trading import clock, phases
from trading import selectors as trading_selectors
from trading.deposits import selectors
from trading.deposits.sealing import deposits_sealed
from trading.deposits.services.guarantees import guarantee_issuer_add, guarantee_issuer_revoke, guarantee_submit
from trading.deposits.services.instructions import deposit_warning_acknowledge, refund_instructions_export
from trading.deposits.services.statements import statement_import
from trading.deposits.services.suspense import suspense_resolve
from trading.deposits.vaccount import format_grouped
from trading.models import RegistrationStatus
from trading.models.deposit import (
    OPEN_REFUND_STATUSES,
    BankTransaction,
    DepositWarning,
    GuaranteeIssuer,
    RefundStatus,
)
from trading.services.deposit_hook import deposit_instructions

PAGE_SIZE = 25


def _page(request, queryset):
    return paginate(request, queryset, PAGE_SIZE)


class GuaranteeForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Signed guarantee letter (JSON)"))


class StatementForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Bank statement (CSV)"))


class SuspenseForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        choices=[
            ("return", gettext_lazy("Return to the payer")),
            ("assign", gettext_lazy("Assign to a sub-account")),
            ("close", gettext_lazy("Close with a note")),
        ],
    )
    account_number = forms.CharField(label=gettext_lazy("Virtual sub-account"), required=False, max_length=40)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)


class IssuerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Issuer name"), max_length=200)
    uscc = forms.CharField(label=gettext_lazy("Unified social credit code"), max_length=18)
    public_key = forms.CharField(label=gettext_lazy("Public key (PEM or base64 SPKI)"), widget=forms.Textarea)


# --- bidders ------------------------------------------------------------------------------------------------


@page_view("deposit.bidder")
def bidder_deposits(request):
    accounts = list(selectors.accounts_for_user(request.user).filter(bidder_id=request.user.organisation_id)
                    .select_related("tender", "lot", "registration"))
    paid = selectors.paid_totals([a.pk for a in accounts])
    for a in accounts:
        a.amounts = selectors.account_amounts(a, paid[a.pk])
    return render(request, "deposits/bidder_list.html", {"accounts": accounts, "now": clock.now()})


@page_view("deposit.bidder")
def bidder_deposit(request, pk):
    account = selectors.account_get(user=request.user, public_id=pk)
    if account.bidder_id != request.user.organisation_id:  # supervisors see it through the API, not here
        raise Http404
    actions = phases.deposit_actions(account)
    form = GuaranteeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and "lodge_guarantee" not in actions:
        messages.error(request, _("The bid deadline has passed: a guarantee letter can no longer be lodged."))
    elif request.method == "POST" and form.is_valid():
        ok = _attempt(
            request,
            lambda: guarantee_submit(actor=request.user, account=account, document=form.cleaned_data["file"]),
            _("The guarantee letter was accepted."),
        )
        if ok:
            return redirect("deposits:bidder_deposit", pk=account.public_id)
    return render(
        request,
        "deposits/bidder_detail.html",
        {
            "account": account,
            "number": format_grouped(account.number),
            "instructions": deposit_instructions(account.registration),
            "entries": selectors.ledger_for(user=request.user, account=account),
            "refunds": selectors.instructions_for_account(user=request.user, account=account),
            "guarantees": account.guarantees.select_related("issuer"),
            "form": form,
            "can_lodge": "lodge_guarantee" in actions,
            "actions": actions,
            "amounts": selectors.account_amounts(account, selectors.paid_totals([account.pk])[account.pk]),
        },
    )


# --- the tender's deposit list (sealed) -------------------------------------------------------------------------


@page_view("deposit.signed_in")
def tender_deposits(request, pk: int):
    tender = trading_selectors.tender_get(user=request.user, pk=pk)
    if not can(request.user, "deposit.view_list", tender):
        raise PermissionDenied(_("The deposit list is sealed until the bid deadline (电子招标投标办法 Art 21)."))
    rows = selectors.deposit_list_for_tender(user=request.user, tender=tender)
    for row in rows:
        row["registration_label"] = RegistrationStatus(row["registration_status"]).label
    return render(request, "deposits/tender_list.html",
                  {"tender": tender, "rows": rows, "sealed": deposits_sealed(tender)})


# --- platform administrator -------------------------------------------------------------------------------------


@page_view("deposit.admin")
def admin_desk(request):
    refunds = _page(request, selectors.refund_instructions_for(user=request.user, statuses=list(OPEN_REFUND_STATUSES)))
    refunds.object_list = list(refunds.object_list)
    for instruction in refunds.object_list:  # who is refunded stays sealed until the deadline
        instruction.sealed = selectors.instruction_is_sealed(instruction)
    return render(
        request,
        "deposits/admin_desk.html",
        {
            "suspense": selectors.suspense_list(user=request.user)[:100],
            "suspense_form": SuspenseForm(),
            "statements": selectors.statements_for(user=request.user)[:20],
            "statement_form": StatementForm(),
            "refunds": refunds,
            "failed": selectors.refund_instructions_for(user=request.user, statuses=[RefundStatus.FAILED]),
            "issuers": GuaranteeIssuer.objects.order_by("name", "pk"),
            "issuer_form": IssuerForm(),
        },
    )


@require_POST
@page_view("deposit.admin")
def admin_suspense_resolve(request, pk: int):
    txn = BankTransaction.objects.filter(pk=pk).first()
    if txn is None:
        raise Http404
    form = SuspenseForm(request.POST)
    if form.is_valid():
        _attempt(request, lambda: suspense_resolve(actor=request.user, txn=txn, **form.cleaned_data),
                 _("The suspense item was resolved."))
    else:
        messages.error(request, _("Choose an action."))
    return redirect("deposits:admin_desk")


@require_POST
@page_view("deposit.admin")
def admin_statement_upload(request):
    form = StatementForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV file."))
        return redirect("deposits:admin_desk")
    upload = form.cleaned_data["file"]
    statement = _attempt(request, lambda: statement_import(actor=request.user, data=upload,
                                                                     file_name=upload.name))
    if statement is None:
        return redirect("deposits:admin_desk")
    messages.success(request, _("Imported %(n)s lines; %(b)s booked.") % {"n": statement.line_count,
                                                                          "b": statement.booked_count})
    return redirect("deposits:admin_statement", pk=statement.pk)


@page_view("deposit.admin")
def admin_statement(request, pk: int):
    statement = selectors.statement_get(user=request.user, pk=pk)
    report = selectors.reconciliation_for(user=request.user, statement=statement)
    return render(request, "deposits/reconciliation.html", {"statement": statement, "report": report, "limit": 200})


@require_POST
@page_view("deposit.admin")
def admin_refund_export(request):
    _rows, text = refund_instructions_export(actor=request.user)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="refund-instructions.csv"'
    return response


@require_POST
@page_view("deposit.admin")
def admin_issuer_add(request):
    form = IssuerForm(request.POST)
    if form.is_valid():
        _attempt(request, lambda: guarantee_issuer_add(actor=request.user, **form.cleaned_data),
                 _("The issuer's key is now trusted."))
    else:
        messages.error(request, _("Fill in every field."))
    return redirect("deposits:admin_desk")


@require_POST
@page_view("deposit.admin")
def admin_issuer_revoke(request, pk: int):
    issuer = GuaranteeIssuer.objects.filter(pk=pk).first()
    if issuer is None:
        raise Http404
    _attempt(request, lambda: guarantee_issuer_revoke(actor=request.user, issuer=issuer),
             _("The issuer's key is no longer trusted."))
    return redirect("deposits:admin_desk")


# --- supervisors ----------------------------------------------------------------------------------------------


@page_view("deposit.supervise")
def supervisor_desk(request):
    from trading.models import Tender

    return render(
        request,
        "deposits/supervisor_desk.html",
        {
            "warnings": _page(request, selectors.warnings_for(user=request.user)),
            "open_count": selectors.warnings_for(user=request.user, open_only=True).count(),
            "failed": selectors.refund_instructions_for(user=request.user, statuses=[RefundStatus.FAILED]),
            "tenders": Tender.objects.exclude(status="draft").filter(deposit_accounts__isnull=False).distinct()
            .order_by("-bid_deadline")[:50],
        },
    )


@require_POST
@page_view("deposit.supervise")
def supervisor_warning_ack(request, pk: int):
    warning = DepositWarning.objects.filter(pk=pk).first()
    if warning is None:
        raise Http404
    _attempt(request, lambda: deposit_warning_acknowledge(actor=request.user, warning=warning),
             _("Warning acknowledged."))
    return redirect("deposits:supervisor_desk")
