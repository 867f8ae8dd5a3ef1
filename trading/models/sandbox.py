"""The sandbox clock's persisted offset (trading/sandbox.py); one row, never used in production."""

from __future__ import annotations

from django.db import models


class SandboxClock(models.Model):
    """How far the sandbox clock is ahead of the real clock (`manage.py sandbox advance 20d`).

    One row (pk 1), read by web, worker and beat alike, so they agree on the sandbox's "now"."""

    offset_seconds = models.BigIntegerField(default=0)  # whole seconds
    advanced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sandbox clock"
        verbose_name_plural = "sandbox clock"

    def __str__(self) -> str:
        return f"sandbox clock +{self.offset_seconds} s"
