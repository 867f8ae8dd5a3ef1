"""The opening of a tender (开标): one state machine per tender and what happens in its room."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OpeningState(models.TextChoices):
    WAITING = "waiting", _("Waiting for the bid deadline")
    SIGNING_IN = "signing_in", _("Sign-in")
    DECRYPTING = "decrypting", _("Decryption")
    FALLBACK = "fallback", _("Custodian decryption")
    READING_OUT = "reading_out", _("Read-out")
    CONFIRMING = "confirming", _("Confirmation")
    OBJECTIONS = "objections", _("Objections")
    CLOSED = "closed", _("Closed")
    FAILED = "failed", _("Failed (fewer than 3 bids)")


class Opening(models.Model):
    tender = models.OneToOneField("trading.Tender", on_delete=models.PROTECT, related_name="opening")
    state = models.CharField(max_length=20, choices=OpeningState.choices, default=OpeningState.WAITING)
    started_at = models.DateTimeField()
    phase_started_at = models.DateTimeField()
    phase_ends_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    # The opening record (canonical JSON text) and its PDF, made at closing.
    record_json = models.TextField(blank=True)
    record_sha256 = models.CharField(max_length=64, blank=True)
    record_pdf_name = models.CharField(max_length=200, blank=True)
    record_pdf_sha256 = models.CharField(max_length=64, blank=True)
    record_published_at = models.DateTimeField(null=True, blank=True)
    record_audit_seq = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("opening")
        verbose_name_plural = _("openings")

    def __str__(self) -> str:
        return f"opening of {self.tender_id} ({self.state})"


class LotOutcome(models.TextChoices):
    OPENED = "opened", _("Opened")
    FAILED = "failed", _("Failed: fewer than 3 bids")


class LotOpening(models.Model):
    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="lots")
    lot = models.OneToOneField("trading.Lot", on_delete=models.PROTECT, related_name="opening_result")
    bid_count = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, choices=LotOutcome.choices)

    class Meta:
        ordering = ["lot__number"]

    def __str__(self) -> str:
        return f"lot {self.lot_id}: {self.outcome}"



class BidOpeningStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decryption")
    FALLBACK = "fallback", _("Awaiting custodian decryption")
    DECRYPTED = "decrypted", _("Decrypted")
    FAILED = "failed", _("Decryption failed")


class Fault(models.TextChoices):
    BIDDER = "bidder", _("Caused by the bidder")
    OTHER = "other", _("Not caused by the bidder")


class FailureOutcome(models.TextChoices):
    REVOKED = "revoked", _("Revoked (撤销)")
    WITHDRAWN = "withdrawn", _("Withdrawn (撤回)")


class BidOpening(models.Model):
    """The opening of one bid: decryption, its read-out, its failure classification."""

    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="bid_openings")
    bid = models.OneToOneField("trading.Bid", on_delete=models.PROTECT, related_name="opening")
    status = models.CharField(max_length=20, choices=BidOpeningStatus.choices, default=BidOpeningStatus.PENDING)
    method = models.CharField(max_length=20, blank=True)  # "bidder" | "custodian"
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    fallback_reason = models.CharField(max_length=300, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    fault = models.CharField(max_length=10, choices=Fault.choices, blank=True)
    outcome = models.CharField(max_length=10, choices=FailureOutcome.choices, blank=True)
    readout = models.JSONField(default=dict)
    form_sha256 = models.CharField(max_length=64, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    files = models.JSONField(default=list)
    deposit_status = models.CharField(max_length=40, blank=True)
    decrypted_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["bid__lot__number", "bid__received_at", "bid_id"]

    def __str__(self) -> str:
        return f"bid {self.bid_id}: {self.status}"



class SignIn(models.Model):
    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="signins")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    signed_in_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_in_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["opening", "organisation"], name="unique_signin_per_org")]

    def __str__(self) -> str:
        return f"{self.organisation_id} signed in"



class ConfirmationKind(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    DEEMED = "deemed", _("Absent: deemed to accept")


class Confirmation(models.Model):
    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="confirmations")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ConfirmationKind.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.UniqueConstraint(fields=["opening", "organisation"], name="unique_confirmation_per_org")]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.kind}"



class OpeningObjection(models.Model):
    """An objection to the opening, raised and answered on the spot (实施条例 Art 44)."""

    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="objections")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    raised_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]

    def __str__(self) -> str:
        return f"objection {self.pk} by {self.organisation_id}"



class ShareRelease(models.Model):
    """A custodian's decrypted share, submitted after the deadline for the fallback.

    `released` holds the released share (canonical JSON) only until the opening key
    has been rebuilt; then it is wiped and only its hash remains.
    """

    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="share_releases")
    key_share = models.OneToOneField("trading.KeyShare", on_delete=models.PROTECT, related_name="release")
    custodian = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    released = models.TextField(blank=True)
    share_sha256 = models.CharField(max_length=64)
    submitted_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submitted_at", "pk"]

    def __str__(self) -> str:
        return f"share release {self.key_share_id}"
