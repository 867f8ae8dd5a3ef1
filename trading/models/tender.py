from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from trading.rules import ProcedureRules, rules_for


class ProcedureType(models.TextChoices):
    WORKS = "works", _("Works")
    GOODS = "goods", _("Goods")
    SERVICES = "services", _("Services")
    GOVERNMENT_PROCUREMENT = "government_procurement", _("Government procurement")


class EvaluationMethod(models.TextChoices):
    LOWEST_EVALUATED_PRICE = "lowest_evaluated_price", _("Lowest evaluated price")
    COMPREHENSIVE_SCORING = "comprehensive_scoring", _("Comprehensive scoring")


class TenderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    BIDDING_CLOSED = "bidding_closed", _("Bidding closed")
    OPENING = "opening", _("Opening")
    EVALUATING = "evaluating", _("Evaluating")
    PUBLICITY = "publicity", _("Candidate publicity")
    AWARDED = "awarded", _("Awarded")
    CONTRACTED = "contracted", _("Contracted")
    ARCHIVED = "archived", _("Archived")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    SUSPENDED = "suspended", _("Suspended")


# Items read out at the opening (唱标). "price" is always read out; the tender
# chooses the others. Keys are what the bid form (SBE1 manifest "form") carries.
READOUT_ITEMS: dict[str, object] = {
    "price": _("Bid price"),
    "duration_days": _("Duration (days)"),
    "delivery_days": _("Delivery time (days)"),
    "quality": _("Quality"),
    "warranty_months": _("Warranty (months)"),
    "project_manager": _("Project manager"),
}

CODE_PREFIX = {
    ProcedureType.WORKS: "GC",
    ProcedureType.GOODS: "HW",
    ProcedureType.SERVICES: "FW",
    ProcedureType.GOVERNMENT_PROCUREMENT: "ZC",
}


def new_seal_salt() -> str:
    return secrets.token_hex(16)


class Tender(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    tenderer = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="tenders_owned", verbose_name=_("tenderer")
    )
    agent = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="tenders_agented",
        verbose_name=_("tender agent"),
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    procedure_type = models.CharField(_("procedure type"), max_length=32, choices=ProcedureType.choices)
    evaluation_method = models.CharField(
        _("evaluation method"),
        max_length=32,
        choices=EvaluationMethod.choices,
        default=EvaluationMethod.LOWEST_EVALUATED_PRICE,
    )
    readout_items = models.JSONField(_("read-out items"), default=list)
    decryption_window_minutes = models.PositiveIntegerField(
        _("decryption window (minutes)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    confirmation_window_minutes = models.PositiveIntegerField(
        _("confirmation window (minutes)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    bid_deadline = models.DateTimeField(_("bid deadline (opening time)"))
    documents_issued_at = models.DateTimeField(_("documents issued at"), null=True, blank=True)
    documents_available_until = models.DateTimeField(_("documents available until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TenderStatus.choices, default=TenderStatus.DRAFT, db_index=True
    )
    # Where a suspension returns to (实施条例 Art 22: objections suspend the process).
    suspended_from = models.CharField(max_length=20, choices=TenderStatus.choices, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Set when the bid deadline fired: sealed lists open from then on.
    bidding_closed_at = models.DateTimeField(_("bidding closed at"), null=True, blank=True)
    publicity_ends_at = models.DateTimeField(_("publicity ends at"), null=True, blank=True)
    publicity_ended_at = models.DateTimeField(_("publicity ended at"), null=True, blank=True)
    # Salt for the identity hashes written to audit events while lists are sealed;
    # revealed in the tender.bidding_closed event so that auditors can link them.
    seal_salt = models.CharField(max_length=64, default=new_seal_salt, editable=False)
    # The sandbox legal-time factor at publication (trading.rules.acceleration; always 1 in production):
    # periods derived later from stored instants (the objection cutoff) use it, whichever process asks.
    time_acceleration = models.FloatField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("tender")
        verbose_name_plural = _("tenders")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def rules(self) -> ProcedureRules:
        return rules_for(self.procedure_type)

    @property
    def is_sealed(self) -> bool:
        """True until the bid deadline has fired (registration and download facts sealed)."""
        return self.bidding_closed_at is None

    @property
    def audit_seal_holds(self) -> bool:
        """Are audit events about sealed facts still written as commitments (audit/sealed.py)? Until
        the deadline step, or until the tender leaves the pre-deadline statuses otherwise
        (cancelled, terminated): the transition that ends it publishes the salt and the openings."""
        if self.bidding_closed_at is not None:
            return False
        if self.status == TenderStatus.SUSPENDED:
            return self.suspended_from in ("", TenderStatus.PUBLISHED)
        return self.status in (TenderStatus.DRAFT, TenderStatus.PUBLISHED)

    def readout_labels(self) -> list[str]:
        return [str(READOUT_ITEMS.get(item, item)) for item in self.readout_items]

    def objection_cutoff(self):
        """The last moment for objections to the documents, at the tender's own sandbox factor: a tender
        published at 19,200 keeps its 10 legal days = 45 s wherever its page is shown (issue 16: a server
        at factor 1 showed a cutoff 10 real days before the deadline, before the publication)."""
        return self.rules.objection_before_deadline.before(self.bid_deadline, self.time_acceleration)


class Lot(models.Model):
    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    estimated_price = models.DecimalField(
        _("estimated price"), max_digits=18, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    deposit_amount = models.DecimalField(
        _("deposit amount"),
        max_digits=18,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    max_envelope_bytes = models.PositiveBigIntegerField(_("maximum envelope size (bytes)"), default=200 * 1024 * 1024)

    class Meta:
        ordering = ["tender_id", "number"]
        constraints = [models.UniqueConstraint(fields=["tender", "number"], name="unique_lot_number")]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")

    def __str__(self) -> str:
        return f"{self.tender.code}-{self.number} {self.title}"
