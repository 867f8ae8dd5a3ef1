"""Collusion checks and their signals (supervision/collusion.py, docs/audit.md "Collusion signals").

Moved from the audit app (issue 17): the tables were renamed from audit_collusion* to
supervision_collusion* (supervision.0002); ids and rows are unchanged.
"""

from __future__ import annotations

from django.db import models


class CollusionRun(models.Model):
    """One computation of a tender's collusion signals (supervision/collusion.py). Its audit event
    `collusion.checked` carries the counts and `evidence_sha256`, the SHA-256 of the canonical
    JSON of the signals, so the rows below can be checked against the log."""

    tender_id = models.BigIntegerField(db_index=True)  # trading.Tender (no FK: the check is a record of its own)
    computed_at = models.DateTimeField()
    trigger = models.CharField(max_length=20)  # "step" (after the opening) | "supervisor" (on demand)
    actor = models.CharField(max_length=64)
    sources = models.JSONField(default=dict)  # which data sources were available, with record counts
    counts = models.JSONField(default=dict)  # signals per kind
    evidence_sha256 = models.CharField(max_length=64)
    audit_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-computed_at", "-pk"]

    def __str__(self) -> str:
        return f"collusion check {self.pk} of tender {self.tender_id}"


class CollusionSignal(models.Model):
    """One red flag with the bidders it names and its evidence (shared hash, IP, account, prices…)."""

    run = models.ForeignKey(CollusionRun, on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(max_length=40)
    severity = models.CharField(max_length=10)  # "red" | "yellow"
    lot = models.PositiveIntegerField(null=True, blank=True)  # lot number, when the signal is per lot
    bidders = models.JSONField(default=list)  # organisation ids
    evidence = models.JSONField(default=dict)

    class Meta:
        ordering = ["run_id", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} ({self.severity}) in check {self.run_id}"
