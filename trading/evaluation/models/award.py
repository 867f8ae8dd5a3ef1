from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AwardStatus(models.TextChoices):
    ACTIVE = "active", _("Awarded")
    CONTRACTED = "contracted", _("Contract signed")
    DECLINED = "declined", _("Winner refused to sign")


class Award(models.Model):
    """The award of a lot (中标): the winner, the award letter (中标通知书, a platform-signed
    document) and the public result notice (中标结果公告)."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="awards")
    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="awards")
    session = models.ForeignKey("evaluation.EvaluationSession", on_delete=models.PROTECT, related_name="awards")
    report = models.ForeignKey("evaluation.EvaluationReport", on_delete=models.PROTECT, related_name="awards")
    bid = models.ForeignKey("evaluation.EvaluationBid", on_delete=models.PROTECT, related_name="awards")
    rank = models.PositiveSmallIntegerField()
    notice = models.ForeignKey("trading.Notice", on_delete=models.PROTECT, related_name="awards")
    awarded_at = models.DateTimeField()
    letter = models.JSONField()  # sign_receipt(...) of the award letter
    letter_sha256 = models.CharField(max_length=64)
    contract_due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=AwardStatus.choices, default=AwardStatus.ACTIVE, db_index=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["tender_id", "lot__number", "awarded_at"]
        constraints = [
            models.UniqueConstraint(fields=["lot"], condition=~Q(status="declined"), name="one_live_award_per_lot")
        ]

    def __str__(self) -> str:
        return f"award {self.pk} of lot {self.lot_id}"


class Contract(models.Model):
    """The written contract (招标投标法 Art 46): its signing date triggers the deposit refunds."""

    award = models.OneToOneField(Award, on_delete=models.PROTECT, related_name="contract")
    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="contracts")
    title = models.CharField(max_length=300)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    signed_at = models.DateTimeField(_("signed at"))
    document_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    # Signed later than 30 days after the award notice (recorded, flagged to supervisors).
    late = models.BooleanField(default=False)

    class Meta:
        ordering = ["tender_id", "signed_at"]

    def __str__(self) -> str:
        return f"contract {self.pk} ({self.title})"
