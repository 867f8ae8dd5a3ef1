from __future__ import annotations

from django.db import models


class Stream(models.Model):
    """A live event stream (one per opening room, draw, dashboard): the record of
    what its WebSocket clients were sent, with gapless ids per stream."""

    key = models.CharField(max_length=120, unique=True)
    last_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.key} @{self.last_id}"


class StreamEvent(models.Model):
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="events")
    event_id = models.BigIntegerField()
    kind = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    # Who may receive it: {"public": true} or {"roles": [...], "orgs": [...], "users": [...]}.
    audience = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stream", "event_id"]
        constraints = [models.UniqueConstraint(fields=["stream", "event_id"], name="unique_stream_event_id")]

    def __str__(self) -> str:
        return f"{self.stream_id}#{self.event_id} {self.kind}"

    def as_message(self) -> dict:
        return {"id": self.event_id, "kind": self.kind, "payload": self.payload, "audience": self.audience,
                "at": self.created_at.isoformat() if self.created_at else None}
