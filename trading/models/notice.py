from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.canonical import canonical_bytes


class NoticeKind(models.TextChoices):
    TENDER = "tender", _("Tender notice")
    AMENDMENT = "amendment", _("Amendment")
    CLARIFICATION = "clarification", _("Clarification")
    CANDIDATE_PUBLICITY = "candidate_publicity", _("Candidate publicity")
    AWARD_RESULT = "award_result", _("Award result")
    FAILURE = "failure", _("Failure notice")
    TERMINATION = "termination", _("Termination notice")


RESULT_KINDS = (NoticeKind.CANDIDATE_PUBLICITY, NoticeKind.AWARD_RESULT, NoticeKind.FAILURE, NoticeKind.TERMINATION)


class ImmutableError(Exception):
    pass


class Notice(models.Model):
    """A published notice: an immutable version. Changes are new notices (amendments)."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("kind"), max_length=32, choices=NoticeKind.choices)
    # 1, 2, 3, ... per tender: the tender's notice history.
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"))
    affects_preparation = models.BooleanField(_("affects bid preparation"), default=False)
    new_deadline = models.DateTimeField(_("new bid deadline"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["tender", "version"], name="unique_notice_version")]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("published notices are immutable; publish a new notice instead")
        self.content_sha256 = self.compute_sha256()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("published notices are immutable")

    def content(self) -> dict:
        """What `content_sha256` covers: canonical JSON of these fields (SPECS.md §2 rules)."""
        return {
            "tender": self.tender_id,
            "kind": self.kind,
            "version": self.version,
            "title": self.title,
            "body": self.body,
            "affects_preparation": self.affects_preparation,
            "new_deadline": self.new_deadline,
            "published_at": self.published_at,
        }

    def compute_sha256(self) -> str:
        return hashlib.sha256(canonical_bytes(self.content())).hexdigest()
