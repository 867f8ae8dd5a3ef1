from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    SIGNING = "signing", _("Awaiting the members' signatures")
    FINAL = "final", _("Final")
    SUPERSEDED = "superseded", _("Superseded")


class EvaluationReport(models.Model):
    """The written evaluation report (评标报告, 实施条例 Art 53): canonical JSON and its SHA-256.
    Immutable once generated; a change makes a new version and supersedes this one."""

    session = models.ForeignKey("evaluation.EvaluationSession", on_delete=models.PROTECT, related_name="reports")
    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="evaluation_reports")
    version = models.PositiveSmallIntegerField()
    round = models.PositiveSmallIntegerField()
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=ReportStatus.choices, default=ReportStatus.SIGNING)
    generated_at = models.DateTimeField()
    finalized_at = models.DateTimeField(null=True, blank=True)
    # Candidates must be published within 3 days of the final report (实施条例 Art 54).
    publish_by = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["session", "version"], name="unique_report_version")]

    def __str__(self) -> str:
        return f"report v{self.version} of evaluation {self.session_id}"


class ReportSignature(models.Model):
    """A member's signature of a report version: agreement, or a written dissent (实施条例 Art 53),
    with the platform's signed receipt over (report SHA-256, seat, expert hash, time, dissent hash)."""

    report = models.ForeignKey(EvaluationReport, on_delete=models.CASCADE, related_name="signatures")
    member = models.ForeignKey("evaluation.CommitteeMember", on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    agrees = models.BooleanField(default=True)
    dissent = models.TextField(blank=True)
    receipt = models.JSONField()

    class Meta:
        ordering = ["report_id", "member__seat"]
        constraints = [models.UniqueConstraint(fields=["report", "member"], name="one_signature_per_member")]

    def __str__(self) -> str:
        return f"signature of member {self.member_id} on report {self.report_id}"
