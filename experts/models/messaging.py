"""Outgoing calls/messages and incoming replies of the confirmation channel."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call")
    EMAIL = "email", _("Email")


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Notification(models.Model):
    assignment = models.ForeignKey("experts.Assignment", on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    external_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.channel} {self.status}"


class InboundMessage(models.Model):
    """A reply received from the gateway; `message_id` unique = replay protection."""

    message_id = models.CharField(max_length=100, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    sender_hash = models.CharField(max_length=64)
    text = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=100)
    assignment = models.ForeignKey("experts.Assignment", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.outcome}"
