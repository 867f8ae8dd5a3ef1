"""Forms of the evaluation pages (bidding_ui/views_evaluation.py). They parse input only; the
services check every rule and the pages show their refusals."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from trading.evaluation.models import ComplaintDecision, CriterionKind

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S")
CRITERIA_ROWS = 8


class CriteriaForm(forms.Form):
    """Up to eight weighted criteria; empty rows are ignored. Maximum points add up to 100."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(CRITERIA_ROWS):
            self.fields[f"name_{i}"] = forms.CharField(label=_("Criterion"), max_length=200, required=False)
            self.fields[f"kind_{i}"] = forms.ChoiceField(label=_("Kind"), choices=CriterionKind.choices,
                                                         required=False)
            self.fields[f"max_points_{i}"] = forms.DecimalField(label=_("Maximum points"), max_digits=5,
                                                                decimal_places=2, required=False,
                                                                min_value=Decimal("0.01"), max_value=Decimal(100))

    @classmethod
    def initial_from(cls, criteria) -> dict:
        initial = {}
        for i, c in enumerate(criteria):
            initial.update({f"name_{i}": c.name, f"kind_{i}": c.kind, f"max_points_{i}": c.max_points})
        return initial

    def rows(self):
        return [(self[f"name_{i}"], self[f"kind_{i}"], self[f"max_points_{i}"]) for i in range(CRITERIA_ROWS)]

    def criteria(self) -> list[dict]:
        out = []
        for i in range(CRITERIA_ROWS):
            name = self.cleaned_data.get(f"name_{i}")
            if name:
                out.append({"name": name, "kind": self.cleaned_data.get(f"kind_{i}") or CriterionKind.SCORED,
                            "max_points": self.cleaned_data.get(f"max_points_{i}")})
        return out


class DeclarationForm(forms.Form):
    no_conflict = forms.TypedChoiceField(
        label=_("Declaration"),
        choices=[("yes", _("I have no conflict of interest with any of these bidders")),
                 ("no", _("I have a conflict of interest and withdraw from this committee"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    statement = forms.CharField(label=_("Statement (required when declaring a conflict)"), required=False,
                                max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class MarksForm(forms.Form):
    """One pass/fail choice and a reason per bid (field names carry the evaluation bid id)."""

    def __init__(self, *args, bids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.bids = list(bids)
        for bid in self.bids:
            self.fields[f"passed_{bid.pk}"] = forms.TypedChoiceField(
                label=bid.bidder.name, choices=[("yes", _("Pass")), ("no", _("Fail"))], coerce=lambda v: v == "yes",
                widget=forms.RadioSelect, required=False, empty_value=None)
            self.fields[f"reason_{bid.pk}"] = forms.CharField(label=_("Reason of the rejection"), required=False,
                                                              max_length=2000)

    def rows(self):
        return [(bid, self[f"passed_{bid.pk}"], self[f"reason_{bid.pk}"]) for bid in self.bids]

    def marks(self) -> list[dict]:
        """The bids marked in this post (an unmarked bid stays as it was)."""
        return [{"bid": bid.pk, "passed": self.cleaned_data[f"passed_{bid.pk}"],
                 "reason": self.cleaned_data.get(f"reason_{bid.pk}", "")}
                for bid in self.bids if self.cleaned_data.get(f"passed_{bid.pk}") is not None]


class ScoresForm(forms.Form):
    """Points per (bid, scored criterion)."""

    def __init__(self, *args, bids=(), criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.bids, self.criteria = list(bids), list(criteria)
        for bid in self.bids:
            for c in self.criteria:
                self.fields[f"points_{bid.pk}_{c.pk}"] = forms.DecimalField(
                    label=f"{bid.bidder.name} · {c.name}", max_digits=5, decimal_places=2, min_value=Decimal(0),
                    max_value=c.max_points, required=False)

    def table(self):
        return [(bid, [self[f"points_{bid.pk}_{c.pk}"] for c in self.criteria]) for bid in self.bids]

    def scores(self) -> list[dict]:
        out = []
        for bid in self.bids:
            for c in self.criteria:
                value = self.cleaned_data.get(f"points_{bid.pk}_{c.pk}")
                if value is not None:
                    out.append({"bid": bid.pk, "criterion": c.pk, "points": value})
        return out


class SignForm(forms.Form):
    agrees = forms.TypedChoiceField(
        label=_("Signature"),
        choices=[("yes", _("I agree with the report")), ("no", _("I disagree; my reasons are below"))],
        coerce=lambda v: v == "yes", widget=forms.RadioSelect, initial="yes")
    dissent = forms.CharField(label=_("Reasons of the disagreement"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class TextForm(forms.Form):
    text = forms.CharField(label=_("Text"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5}))


class ObjectionReplyForm(forms.Form):
    reply = forms.CharField(label=_("Reply"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))
    upheld = forms.BooleanField(label=_("Upheld: send the result back to the committee"), required=False)


class ComplaintForm(forms.Form):
    objection = forms.TypedChoiceField(label=_("Your objection during the publicity"), required=False, coerce=int,
                                       empty_value=None)
    text = forms.CharField(label=_("Complaint"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, objections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objection"].choices = [("", _("— none (about the award notice) —"))] + [
            (o.pk, f"#{o.pk} {o.raised_at:%Y-%m-%d %H:%M} {o.text[:60]}") for o in objections]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=ComplaintDecision.choices)
    text = forms.CharField(label=_("Written decision"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))


class ContractForm(forms.Form):
    signed_at = forms.DateTimeField(label=_("Signed at"), widget=DATETIME_WIDGET)
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    document_sha256 = forms.CharField(label=_("SHA-256 of the signed document"), max_length=64, required=False)
