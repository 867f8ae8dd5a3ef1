"""Draw requests, their committed eligible pool, the drawn sequence and the panel seats."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

ALGORITHM = "ptrade-expert-draw-v1"


class DrawStatus(models.TextChoices):
    COMMITTED = "committed", _("Committed (drawing)")
    CONFIRMING = "confirming", _("Waiting for confirmations")
    COMPLETE = "complete", _("Panel complete")
    EXHAUSTED = "exhausted", _("Pool exhausted")
    CANCELLED = "cancelled", _("Cancelled")


IN_PROGRESS = (DrawStatus.COMMITTED, DrawStatus.CONFIRMING)


class Draw(models.Model):
    """One random drawing of an evaluation committee for a lot (抽取申请 and its result).

    Secret until revealed: `identity_salt` (panel_reveal), `seed_sealed` (draw_reveal_seed).
    """

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="expert_draws")
    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="expert_draws")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    evaluation_start = models.DateTimeField(_("evaluation starts"))
    evaluation_end = models.DateTimeField(_("evaluation ends"))
    place = models.CharField(_("place"), max_length=300, blank=True)
    remote = models.BooleanField(_("remote evaluation"), default=False)
    committee_size = models.PositiveSmallIntegerField(_("committee size"))
    owner_representatives = models.PositiveSmallIntegerField(_("tenderer's representatives"), default=0)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=DrawStatus.choices, default=DrawStatus.COMMITTED,
                              db_index=True)
    algorithm = models.CharField(max_length=40, default=ALGORITHM)
    bidders_count = models.PositiveIntegerField(default=0)
    # The commitment (written in the commit audit event before any randomness is used).
    seed_sha256 = models.CharField(max_length=64)
    seed_sealed = models.BinaryField(editable=False)
    pool_sha256 = models.CharField(max_length=64)
    pool_size = models.PositiveIntegerField(default=0)
    excluded = models.JSONField(default=dict, blank=True)
    identity_salt = models.CharField(max_length=64, editable=False)
    commit_seq = models.BigIntegerField(null=True, blank=True)
    # Public entropy: the audit chain head right after the commit event (that event's hash).
    entropy = models.CharField(max_length=64, blank=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    exhausted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    seed_revealed = models.CharField(max_length=64, blank=True)
    seed_revealed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["evaluation_start", "evaluation_end"], name="draw_evaluation_window")]
        verbose_name = _("expert draw")
        verbose_name_plural = _("expert draws")

    def __str__(self) -> str:
        return f"draw {self.pk}"

    @property
    def expert_seats(self) -> int:
        return self.committee_size - self.owner_representatives

    @property
    def closed(self) -> bool:
        """No more drawing from this stream: the seed is public or the draw was cancelled."""
        return self.seed_revealed_at is not None or self.status == DrawStatus.CANCELLED


class DrawLine(models.Model):
    """One line of the requested composition: `count` members and `reserves` from a specialty subtree.

    `pool_ids` is the committed eligible list of the line (sorted ids, experts/sampler.py encoding);
    `steps`/`words` the position of the line's deterministic stream.
    """

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="lines")
    index = models.PositiveSmallIntegerField()
    specialty = models.ForeignKey("experts.Specialty", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=16)
    count = models.PositiveSmallIntegerField()
    reserves = models.PositiveSmallIntegerField(default=0)
    pool_size = models.PositiveIntegerField(default=0)
    pool_ids = models.BinaryField(editable=False)
    steps = models.PositiveIntegerField(default=0)
    words = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["draw_id", "index"]
        constraints = [models.UniqueConstraint(fields=["draw", "index"], name="unique_draw_line")]

    def __str__(self) -> str:
        return f"draw {self.draw_id} line {self.index}"


class DrawnAs(models.TextChoices):
    MEMBER = "member", _("Member")
    RESERVE = "reserve", _("Reserve")


class AssignmentStatus(models.TextChoices):
    SKIPPED = "skipped", _("Skipped")
    RESERVE = "reserve", _("Reserve (not called)")
    NOTIFIED = "notified", _("Called, waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    TIMED_OUT = "timed_out", _("No answer in time")
    LEFT = "left", _("Left the panel")
    RELEASED = "released", _("Released")


PENDING = (AssignmentStatus.NOTIFIED,)
BOOKING = (AssignmentStatus.NOTIFIED, AssignmentStatus.ACCEPTED)


class Assignment(models.Model):
    """One output of the draw's random sequence (`seq` orders them) and, for members, its panel seat."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="assignments")
    line = models.ForeignKey(DrawLine, on_delete=models.CASCADE, related_name="assignments")
    expert = models.ForeignKey("experts.Expert", on_delete=models.PROTECT, related_name="assignments")
    seq = models.PositiveIntegerField()
    position = models.PositiveIntegerField(help_text="step of the line's Fisher–Yates shuffle")
    initial = models.BooleanField(default=True)
    drawn_as = models.CharField(max_length=8, choices=DrawnAs.choices, default=DrawnAs.MEMBER)
    seat = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, db_index=True)
    skip_reason = models.CharField(max_length=32, blank=True)
    left_reason = models.CharField(max_length=300, blank=True)
    identity_hash = models.CharField(max_length=64)
    response_nonce = models.CharField(max_length=32, unique=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    respond_by = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    response_via = models.CharField(max_length=16, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["draw_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["draw", "seq"], name="unique_assignment_seq")]
        indexes = [models.Index(fields=["expert", "status"], name="assignment_expert_status")]

    def __str__(self) -> str:
        return f"assignment {self.pk} ({self.status})"

    @property
    def reply_code(self) -> str:
        """Short code an expert may add to an SMS reply when several calls are open."""
        return self.response_nonce[:6].upper()


class WarningKind(models.TextChoices):
    POOL_EXHAUSTED = "pool_exhausted", _("Pool exhausted")
    DRAW_CLOSED = "draw_closed", _("Seat vacated after the draw was closed")


class DrawWarning(models.Model):
    """A warning for supervisors (e.g. the eligible pool ran out before the panel was full)."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="warnings")
    line = models.ForeignKey(DrawLine, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=WarningKind.choices)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} (draw {self.draw_id})"
