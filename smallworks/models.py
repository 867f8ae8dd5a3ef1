"""Fixed-price comparison with a public random drawing of contractors (固定价比选, docs/smallworks.md).

A `Project` announces the fixed contract price and the qualification conditions; enterprises
register online with their documents (`Entry`); the agent reviews each (pass/fail with reasons,
objections); the drawing (`Drawing`: commitment, then the audit chain head as entropy, the expert
draw's sampler) orders the eligible qualified enterprises: the first is drawn, the next `reserves`
wait in order (`Pick`). The drawn enterprise signs within the announced period or loses its deposit.

Deposits reuse trading/deposits: each project owns a *carrier* `trading.Tender` (status draft,
never listed or stepped by trading) with one `Lot`, and each entry a `trading.Registration` on it,
so virtual sub-accounts, bank notifications, forfeiture and refunds are the deposit module's.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REGISTRATION = "registration", _("Registration open")
    REVIEW = "review", _("Qualification review")
    REVIEWED = "reviewed", _("Qualification result published")
    DRAWN = "drawn", _("Drawn: waiting for the signature")
    PUBLICITY = "publicity", _("Result publicity")
    CONTRACTED = "contracted", _("Contracted")
    COMPLETED = "completed", _("Works completed")
    FAILED = "failed", _("Failed")


class Project(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    tenderer = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("tenderer"))
    agent = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("agent"))
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    contract_price = models.DecimalField(_("fixed contract price"), max_digits=18, decimal_places=2)
    qualification_conditions = models.JSONField(_("qualification conditions"), default=list)
    deposit_amount = models.DecimalField(_("deposit"), max_digits=18, decimal_places=2, default=0)
    registration_ends_at = models.DateTimeField(_("registration ends at"))
    drawing_at = models.DateTimeField(_("drawing at"))
    signing_days = models.PositiveIntegerField(_("signing period (days)"))
    reserves = models.PositiveIntegerField(_("reserves"), default=2)
    status = models.CharField(max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT,
                              db_index=True)
    carrier = models.OneToOneField("trading.Tender", on_delete=models.PROTECT, related_name="fixed_price_project")
    published_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    objections_until = models.DateTimeField(null=True, blank=True)
    contractor = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    publicity_ends_at = models.DateTimeField(null=True, blank=True)
    contract_signed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Qualification(models.TextChoices):
    PENDING = "pending", _("Not reviewed")
    PASSED = "passed", _("Qualified")
    FAILED = "failed", _("Not qualified")


class Entry(models.Model):
    """An enterprise's registration with its documents and its qualification result."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="entries")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    registration = models.OneToOneField("trading.Registration", on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField()
    # The enterprise's declaration of relations with the tenderer (blank: none declared).
    relation_declared = models.CharField(max_length=300, blank=True)
    # A relation with the tenderer the reviewer found (blank: none).
    relation_found = models.CharField(max_length=300, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    qualification = models.CharField(max_length=10, choices=Qualification.choices, default=Qualification.PENDING)
    reasons = models.TextField(blank=True)
    reviewed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["registered_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["project", "organisation"], name="smallworks_one_entry")]

    def __str__(self) -> str:
        return f"{self.organisation} → {self.project.code}"


class EntryDocument(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="documents")
    name = models.CharField(max_length=200)
    file = models.FileField(upload_to="smallworks/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class Objection(models.Model):
    """An enterprise's objection to the qualification result (as for tenders)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="objections")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    raised_at = models.DateTimeField()
    reply = models.TextField(blank=True)
    upheld = models.BooleanField(null=True)
    replied_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]

    def __str__(self) -> str:
        return f"objection {self.pk} on {self.project.code}"


class Drawing(models.Model):
    """The drawing of one project: commitment, entropy, pool, published seed (docs/smallworks.md)."""

    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="drawing")
    algorithm = models.CharField(max_length=40)
    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    seed_sha256 = models.CharField(max_length=64)
    seed_sealed = models.BinaryField()
    seed_revealed = models.CharField(max_length=64, blank=True)
    pool_ids = models.BinaryField()
    pool_sha256 = models.CharField(max_length=64)
    pool_size = models.PositiveIntegerField()
    # [{"organisation", "name", "uscc", "reason", "detail"}]: qualified but excluded, with reasons.
    excluded = models.JSONField(default=list)
    commit_seq = models.PositiveBigIntegerField(null=True)
    entropy = models.CharField(max_length=64, blank=True)
    steps = models.PositiveIntegerField(default=0)
    words = models.PositiveIntegerField(default=0)
    committed_at = models.DateTimeField()
    drawn_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"drawing of {self.project.code}"


class PickStatus(models.TextChoices):
    WAITING = "waiting", _("Reserve, waiting")
    CALLED = "called", _("Drawn: must sign")
    SIGNED = "signed", _("Signed")
    LAPSED = "lapsed", _("Did not sign in time")
    REFUSED = "refused", _("Refused to sign")
    RELEASED = "released", _("Released")


class Pick(models.Model):
    """One output of the drawing's sequence: the drawn enterprise or a reserve, in drawing order."""

    drawing = models.ForeignKey(Drawing, on_delete=models.PROTECT, related_name="picks")
    position = models.PositiveIntegerField()  # 0 = drawn, 1.. = reserves, in order
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=PickStatus.choices)
    called_at = models.DateTimeField(null=True, blank=True)
    sign_due_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["drawing", "position"], name="smallworks_pick_position")]

    def __str__(self) -> str:
        return f"{self.position}: {self.organisation}"


class SupervisionWarning(models.Model):
    """A supervision warning (late signature) shown to supervisors until acknowledged."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="warnings")
    kind = models.CharField(max_length=30)
    message = models.CharField(max_length=500)
    raised_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.project.code}"
