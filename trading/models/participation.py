from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Registration(models.Model):
    """A bidder organisation's registration for a lot (投标报名). Sealed until the deadline."""

    # The id used in URLs and the API: random (UUID 4), so that it discloses neither how many
    # registrations the platform holds nor when (docs/tendering.md, "Public identifiers"). The integer
    # primary key stays internal (foreign keys, audit objects).
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="registrations")
    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="registrations")
    bidder = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="registrations")
    registered_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.REGISTERED)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["lot", "bidder"], name="unique_registration_per_lot")]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")

    def __str__(self) -> str:
        return f"{self.bidder} → {self.lot}"


class Question(models.Model):
    """A bidder's question; its author is never shown to the agent, tenderer or other bidders."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="questions")
    asked_by_org = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    asked_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("question"))
    asked_at = models.DateTimeField()
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    published = models.BooleanField(default=False)

    class Meta:
        ordering = ["asked_at", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return f"Q{self.pk} on {self.tender_id}"


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    REPLIED = "replied", _("Replied")


class Objection(models.Model):
    """An objection to the tender documents (异议, 实施条例 Art 22)."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="objections")
    raised_by_org = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("objection"))
    raised_at = models.DateTimeField()
    reply_due_at = models.DateTimeField()
    reply = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    replied_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN, db_index=True
    )

    class Meta:
        ordering = ["raised_at", "pk"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"Objection {self.pk} on {self.tender_id}"

    def is_overdue(self, at) -> bool:
        return self.status == ObjectionStatus.OPEN and at > self.reply_due_at
