from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class CriterionKind(models.TextChoices):
    # Computed from the prices (low-price-first formula), not scored by the members.
    PRICE = "price", _("Price (computed)")
    # Scored by every member from 0 to the maximum.
    SCORED = "scored", _("Scored by the members")
    # Computed from the bidder's credit records counting at the bid deadline (docs/credit.md), frozen
    # in the evaluation's inputs when the session opens.
    CREDIT = "credit", _("Credit (computed from credit records)")


class Criterion(models.Model):
    """A weighted criterion of comprehensive scoring (综合评估法), part of the tender documents
    (招标投标法 Art 40): set while the tender is a draft, fixed once it is published."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.CASCADE, related_name="evaluation_criteria")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=CriterionKind.choices, default=CriterionKind.SCORED)
    max_points = models.DecimalField(
        _("maximum points"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(100))],
    )

    class Meta:
        ordering = ["tender_id", "number"]
        constraints = [models.UniqueConstraint(fields=["tender", "number"], name="unique_criterion_number")]
        verbose_name = _("evaluation criterion")
        verbose_name_plural = _("evaluation criteria")

    def __str__(self) -> str:
        return f"{self.number}. {self.name} ({self.max_points})"
