"""The evaluation session of a lot: its bids (snapshot of the read-out), its committee, the sheets."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SessionStatus(models.TextChoices):
    OPEN = "open", _("Evaluating")
    SIGNING = "signing", _("Report awaiting signatures")
    CONCLUDED = "concluded", _("Report final")
    CANCELLED = "cancelled", _("Cancelled")


class EvaluationSession(models.Model):
    """One lot's evaluation by its drawn committee (评标). `round` grows when an upheld objection
    sends the result back to the committee; sheets and reports belong to a round."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="evaluation_sessions")
    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="evaluation_sessions")
    method = models.CharField(_("evaluation method"), max_length=32)
    status = models.CharField(
        _("status"), max_length=12, choices=SessionStatus.choices, default=SessionStatus.OPEN, db_index=True
    )
    round = models.PositiveSmallIntegerField(default=1)
    # experts.Draw id (no foreign key: this app's migrations stay independent of the experts app).
    draw_id = models.PositiveBigIntegerField(null=True, blank=True)
    seats = models.PositiveSmallIntegerField(_("expert seats"))
    opened_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    concluded_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the canonical JSON of the bids snapshot (what the committee evaluates).
    bids_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["lot"], condition=~Q(status="cancelled"), name="one_live_evaluation_per_lot"
            )
        ]
        verbose_name = _("evaluation session")
        verbose_name_plural = _("evaluation sessions")

    def __str__(self) -> str:
        return f"evaluation {self.pk} of lot {self.lot_id}"


class EvaluationBid(models.Model):
    """A bid as decrypted and read out at the opening: what the committee evaluates."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="bids")
    # trading.Bid id and trading.Registration id (plain integers, see draw_id).
    bid_ref = models.PositiveBigIntegerField(null=True, blank=True)
    registration_id = models.PositiveBigIntegerField(null=True, blank=True)
    bidder = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("bid price"), max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    readout = models.JSONField(_("read-out items"), default=dict)
    files = models.JSONField(default=list)
    received_at = models.DateTimeField(_("received at"))
    envelope_sha256 = models.CharField(max_length=64)
    # The credit item, frozen at the opening of the session: {"score", "full_marks", "records", "at"}
    # from credit.services.credit_score at the bid deadline ({} without a credit criterion).
    credit = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["session_id", "received_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["session", "bidder"], name="one_evaluation_bid_per_bidder")]

    def __str__(self) -> str:
        return f"{self.bidder} {self.price}"


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REPLACED = "replaced", _("Replaced (scores void)")
    RECUSED = "recused", _("Declared a conflict (scores void)")


class CommitteeMember(models.Model):
    """A drawn expert who signed in (the reveal event). A member who leaves (replaced, recused) keeps
    the row for the record; their marks and scores are void and never count."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="members")
    seat = models.PositiveSmallIntegerField()
    # experts.Assignment and experts.Expert ids.
    assignment_id = models.PositiveBigIntegerField()
    expert_id = models.PositiveBigIntegerField()
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="evaluation_seats")
    name = models.CharField(max_length=200)
    expert_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    signed_in_at = models.DateTimeField()
    declared_at = models.DateTimeField(null=True, blank=True)
    declaration_sha256 = models.CharField(max_length=64, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["session_id", "seat", "signed_in_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "assignment_id"], name="one_member_per_assignment"),
            models.UniqueConstraint(
                fields=["session", "seat"], condition=Q(status="active"), name="one_active_member_per_seat"
            ),
        ]

    def __str__(self) -> str:
        return f"seat {self.seat} of evaluation {self.session_id}"

    @property
    def active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


class QualificationMark(models.Model):
    """A member's pass/fail of a bid (初步评审); a failure gives its reason."""

    member = models.ForeignKey(CommitteeMember, on_delete=models.CASCADE, related_name="marks")
    bid = models.ForeignKey(EvaluationBid, on_delete=models.CASCADE, related_name="marks")
    passed = models.BooleanField()
    reason = models.TextField(blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "bid"], name="one_mark_per_member_bid")]

    def __str__(self) -> str:
        return f"{'pass' if self.passed else 'fail'} bid {self.bid_id} by member {self.member_id}"


class Score(models.Model):
    """A member's points for a bid on a scored criterion (综合评估法)."""

    member = models.ForeignKey(CommitteeMember, on_delete=models.CASCADE, related_name="scores")
    bid = models.ForeignKey(EvaluationBid, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey("evaluation.Criterion", on_delete=models.PROTECT, related_name="scores")
    points = models.DecimalField(max_digits=5, decimal_places=2)
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "bid", "criterion"], name="one_score_per_member_bid_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.points} for bid {self.bid_id} on criterion {self.criterion_id}"


class SheetSubmission(models.Model):
    """A member's submitted sheet of one round: canonical JSON, its SHA-256 and the platform's signed
    receipt (audit.signing.sign_receipt). Final: the sheet cannot change in that round."""

    member = models.ForeignKey(CommitteeMember, on_delete=models.CASCADE, related_name="submissions")
    round = models.PositiveSmallIntegerField()
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)
    receipt = models.JSONField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["member_id", "round"]
        constraints = [models.UniqueConstraint(fields=["member", "round"], name="one_submission_per_member_round")]

    def __str__(self) -> str:
        return f"sheet of member {self.member_id}, round {self.round}"
