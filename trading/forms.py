"""Forms of the tendering pages (bidding_ui/views_tendering.py). They parse input only;
every rule is checked by the services, whose refusals the pages show."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from trading.models import (
    READOUT_ITEMS,
    RESULT_KINDS,
    EvaluationMethod,
    NoticeKind,
    ProcedureType,
    TenderStatus,
)

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S")


def datetime_field(label, required=True, help_text=""):
    return forms.DateTimeField(label=label, required=required, widget=DATETIME_WIDGET, help_text=help_text)


class TenderForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    tenderer = forms.ModelChoiceField(label=_("Tenderer"), queryset=Organisation.objects.all())
    procedure_type = forms.ChoiceField(label=_("Procedure type"), choices=ProcedureType.choices)
    evaluation_method = forms.ChoiceField(label=_("Evaluation method"), choices=EvaluationMethod.choices)
    readout_items = forms.MultipleChoiceField(
        label=_("Items read out at the opening besides the price"),
        required=False,
        choices=[(k, v) for k, v in READOUT_ITEMS.items() if k != "price"],
        widget=forms.CheckboxSelectMultiple,
    )
    bid_deadline = datetime_field(_("Bid deadline (= opening time)"))
    documents_available_until = datetime_field(
        _("Documents available until"), required=False, help_text=_("Leave empty: until the bid deadline.")
    )
    decryption_window_minutes = forms.IntegerField(
        label=_("Decryption window (minutes)"), min_value=1, max_value=1440, initial=30
    )
    confirmation_window_minutes = forms.IntegerField(
        label=_("Confirmation window (minutes)"), min_value=1, max_value=1440, initial=15
    )

    @classmethod
    def initial_from(cls, tender) -> dict:
        return {
            "title": tender.title,
            "description": tender.description,
            "tenderer": tender.tenderer_id,
            "procedure_type": tender.procedure_type,
            "evaluation_method": tender.evaluation_method,
            "readout_items": [i for i in tender.readout_items if i != "price"],
            "bid_deadline": tender.bid_deadline,
            "documents_available_until": tender.documents_available_until,
            "decryption_window_minutes": tender.decryption_window_minutes,
            "confirmation_window_minutes": tender.confirmation_window_minutes,
        }


class LotForm(forms.Form):
    title = forms.CharField(label=_("Lot title"), max_length=300)
    estimated_price = forms.DecimalField(
        label=_("Estimated price (CNY)"), max_digits=18, decimal_places=2, min_value=Decimal("0.01")
    )
    deposit_amount = forms.DecimalField(
        label=_("Deposit (CNY)"), max_digits=18, decimal_places=2, min_value=Decimal(0), initial=Decimal(0)
    )


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    name = forms.CharField(
        label=_("Name (optional; the same name makes a new version)"), max_length=200, required=False
    )
    # After publication a document change is an amendment (招标投标法 Art 23): these are then required.
    amendment_title = forms.CharField(label=_("Amendment title (after publication)"), max_length=300, required=False)
    amendment_body = forms.CharField(
        label=_("What changes and why (after publication)"), max_length=50000, required=False, widget=forms.Textarea
    )
    new_deadline = forms.DateTimeField(label=_("New bid deadline (if fewer than 15 days would remain)"),
                                       required=False)


class PublishForm(forms.Form):
    notice_title = forms.CharField(label=_("Notice title (optional)"), max_length=300, required=False)
    notice_body = forms.CharField(
        label=_("Additional notice text (optional)"),
        required=False,
        max_length=50000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AmendmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (NoticeKind.AMENDMENT, NoticeKind.AMENDMENT.label),
            (NoticeKind.CLARIFICATION, NoticeKind.CLARIFICATION.label),
        ],
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    body = forms.CharField(label=_("Text"), max_length=100000, widget=forms.Textarea(attrs={"rows": 6}))
    affects_preparation = forms.BooleanField(label=_("May affect bid preparation"), required=False, initial=True)
    new_deadline = datetime_field(_("New bid deadline"), required=False)


class ResultNoticeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[(k.value, k.label) for k in RESULT_KINDS])
    title = forms.CharField(label=_("Title"), max_length=300)
    body = forms.CharField(label=_("Text"), max_length=100000, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, kinds: list[str] | None = None, **kwargs) -> None:
        """`kinds`: the notices the tender's phase allows (trading/phases.py, RESULT_NOTICE); no default
        choice is preselected beyond the first allowed one."""
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k.value, k.label) for k in RESULT_KINDS if k.value in kinds]


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Your question"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection to the tender documents"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer (published to all bidders)"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReplyForm(forms.Form):
    reply = forms.CharField(label=_("Reply"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class NoticeFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *NoticeKind.choices])
    procedure_type = forms.ChoiceField(
        label=_("Procedure"), required=False, choices=[("", _("All procedures")), *ProcedureType.choices]
    )
    status = forms.ChoiceField(
        label=_("Tender status"),
        required=False,
        choices=[("", _("All statuses")), *[c for c in TenderStatus.choices if c[0] != TenderStatus.DRAFT]],
    )
