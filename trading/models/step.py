from __future__ import annotations

from django.db import models


class ScheduledStep(models.Model):
    """A due time kept in the database and swept by a frequent beat task.

    `kind` names the handler (trading/steps.py registry); `subject` is the object
    it acts on ("trading.tender:12", "trading.lot:3", "trading.objection:9"), and
    (kind, subject) is unique so rescheduling updates the row. `tender`/`lot` are
    set where they apply, for queries. A handler marks nothing itself: the sweep
    sets `done_at` in the handler's transaction.
    """

    kind = models.CharField(max_length=64)
    subject = models.CharField(max_length=120)
    tender = models.ForeignKey(
        "trading.Tender", null=True, blank=True, on_delete=models.CASCADE, related_name="scheduled_steps"
    )
    lot = models.ForeignKey("trading.Lot", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    # When a failed or deferred step may run again (None: as soon as due).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "subject"], name="unique_step_kind_subject")]
        indexes = [models.Index(fields=["done_at", "due_at"], name="step_pending_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} @ {self.due_at:%Y-%m-%d %H:%M:%S}"
