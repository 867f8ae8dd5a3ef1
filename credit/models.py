"""Credit records (不良行为记录), their decision trail, expert ratings and suspensions (docs/credit.md).

credit/ sits below trading/, experts/, smallworks/ and auctions/ in the layering: it imports
accounts and audit only. A record's subject is an organisation (foreign key) or an expert, named
by its id in the expert pool (`expert_id`, an integer: credit does not depend on experts/).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from credit.rules import RecordKind, Severity


class RecordStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed (awaiting a supervisor)")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected by the supervisor")
    REVOKED = "revoked", _("Revoked on appeal")
    REPAIRED = "repaired", _("Repaired (信用修复)")


class CreditRecord(models.Model):
    number = models.CharField(_("record number"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=RecordKind.choices)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=16, choices=RecordStatus.choices,
                              default=RecordStatus.PROPOSED, db_index=True)
    organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="credit_records", verbose_name=_("organisation"))
    expert_id = models.PositiveBigIntegerField(_("expert"), null=True, blank=True, db_index=True)
    subject_name = models.CharField(_("subject"), max_length=200)
    subject_uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True, db_index=True)
    facts = models.TextField(_("facts"))
    source_ref = models.CharField(_("where it happened"), max_length=120, blank=True)
    # [{"seq", "action", "object", "hash"}]: the audit events that prove the facts.
    evidence = models.JSONField(_("evidence"), default=list)
    proposed_by = models.CharField(max_length=64)
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    published_from = models.DateTimeField(null=True, blank=True)
    published_until = models.DateTimeField(null=True, blank=True)
    bar_until = models.DateTimeField(_("barred until"), null=True, blank=True)
    bar_basis = models.CharField(max_length=32, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # revoked or repaired
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("credit record")
        verbose_name_plural = _("credit records")
        constraints = [
            models.CheckConstraint(name="credit_record_one_subject",
                                   condition=models.Q(organisation__isnull=False, expert_id__isnull=True)
                                   | models.Q(organisation__isnull=True, expert_id__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject_name} ({self.kind})"


class RequestKind(models.TextChoices):
    APPEAL = "appeal", _("Appeal (申诉)")
    REPAIR = "repair", _("Repair (信用修复)")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class CreditRequest(models.Model):
    """An appeal against a published record or an application to repair it, with its decision."""

    record = models.ForeignKey(CreditRecord, on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField(max_length=10, choices=RequestKind.choices)
    text = models.TextField(_("grounds"))
    submitted_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    decided_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["submitted_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["record", "kind"], condition=models.Q(status="open"),
                                               name="credit_one_open_request_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} on {self.record_id}"


class CreditDecision(models.Model):
    """The decision trail of a record: one row per audit event about it (its `seq`)."""

    record = models.ForeignKey(CreditRecord, on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=40)
    actor = models.CharField(max_length=64)
    at = models.DateTimeField()
    reason = models.TextField(blank=True)
    audit_seq = models.PositiveBigIntegerField(unique=True)

    class Meta:
        ordering = ["audit_seq"]

    def __str__(self) -> str:
        return f"{self.action} @{self.audit_seq}"


class RaterRole(models.TextChoices):
    AGENT = "agent", _("Tender agent")
    SUPERVISOR = "supervisor", _("Supervisor")


class ExpertRating(models.Model):
    """A rating of an expert's work in one evaluation (专家动态考核), 1 (poor) .. 5 (excellent)."""

    expert_id = models.PositiveBigIntegerField(db_index=True)
    subject_ref = models.CharField(max_length=80)  # e.g. "evaluation.evaluationsession:12"
    rater = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    rater_role = models.CharField(max_length=16, choices=RaterRole.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    rated_at = models.DateTimeField()

    class Meta:
        ordering = ["rated_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["expert_id", "subject_ref", "rater_role"], name="credit_one_rating"),
            models.CheckConstraint(name="credit_rating_range", condition=models.Q(score__gte=1, score__lte=5)),
        ]

    def __str__(self) -> str:
        return f"expert {self.expert_id}: {self.score} ({self.rater_role})"


class ExpertSuspension(models.Model):
    """The expert is out of the draw's pool from `starts_at` to `ends_at` (ends by itself)."""

    expert_id = models.PositiveBigIntegerField(db_index=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=40)  # "poor_rating", "repeated_poor_ratings", "credit_record"
    basis = models.JSONField(default=dict)  # rating ids or the record number
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return f"expert {self.expert_id} suspended until {self.ends_at:%Y-%m-%d}"
