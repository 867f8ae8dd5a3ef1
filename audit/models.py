from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One link of the hash chain (SPECS.md §2). Append-only: the database refuses
    UPDATE and DELETE (triggers in migration 0002)."""

    seq = models.BigIntegerField(primary_key=True)
    ts = models.DateTimeField()
    actor = models.CharField(max_length=64)
    action = models.CharField(max_length=100, db_index=True)
    object = models.CharField(max_length=200, db_index=True)
    data = models.JSONField(default=dict)
    prev = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object}"

    def as_dict(self) -> dict:
        """The event as hashed: every field but `hash`."""
        from audit.canonical import format_timestamp

        return {
            "seq": self.seq,
            "ts": format_timestamp(self.ts),
            "actor": self.actor,
            "action": self.action,
            "object": self.object,
            "data": self.data,
            "prev": self.prev,
        }
