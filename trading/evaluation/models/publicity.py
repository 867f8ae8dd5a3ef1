from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CandidatePublicity(models.Model):
    """The candidate publicity (中标候选人公示, 实施条例 Art 54) of a tender: its notice and the published
    content (candidates and rejections of every lot, from the final reports)."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="candidate_publicities")
    notice = models.OneToOneField("trading.Notice", on_delete=models.PROTECT, related_name="candidate_publicity")
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The latest "publish by" of the reports it covers, and whether the publication came later.
    publish_by = models.DateTimeField()
    late = models.BooleanField(default=False)
    # An upheld objection sends the result back to the committee: this publicity is withdrawn.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return f"candidate publicity {self.pk} of tender {self.tender_id}"


class PublicityObjectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    REPLIED = "replied", _("Replied")


class ObjectionOutcome(models.TextChoices):
    DISMISSED = "dismissed", _("Dismissed")
    UPHELD = "upheld", _("Upheld: re-evaluation")


class PublicityObjection(models.Model):
    """An objection to the evaluation result during the publicity (异议, 实施条例 Art 54)."""

    publicity = models.ForeignKey(CandidatePublicity, on_delete=models.PROTECT, related_name="objections")
    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="publicity_objections")
    raised_by_org = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("objection"))
    raised_at = models.DateTimeField()
    reply_due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10,
        choices=PublicityObjectionStatus.choices,
        default=PublicityObjectionStatus.OPEN,
        db_index=True,
    )
    reply = models.TextField(_("reply"), blank=True)
    outcome = models.CharField(max_length=10, choices=ObjectionOutcome.choices, blank=True)
    replied_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]

    def __str__(self) -> str:
        return f"publicity objection {self.pk}"

    def is_overdue(self, at) -> bool:
        return self.status == PublicityObjectionStatus.OPEN and at > self.reply_due_at


class ComplaintStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    ACCEPTED = "accepted", _("Accepted (受理)")
    REJECTED = "rejected", _("Not accepted (不予受理)")
    DECIDED = "decided", _("Decided")


class ComplaintDecision(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


class Complaint(models.Model):
    """A complaint to the supervising department (投诉, 实施条例 Arts 60–61), tracked to its decision."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="complaints")
    objection = models.ForeignKey(
        PublicityObjection, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    raised_by_org = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("complaint"))
    filed_at = models.DateTimeField()
    # The last moment the complaint could be filed (10 days, 实施条例 Art 60), recorded for the file.
    filing_deadline = models.DateTimeField()
    accept_due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.FILED, db_index=True
    )
    handled_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    decide_due_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=ComplaintDecision.choices, blank=True)
    decision_text = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-pk"]

    def __str__(self) -> str:
        return f"complaint {self.pk}"
