from __future__ import annotations

import os
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def document_upload_to(instance: TenderDocument, filename: str) -> str:
    ext = os.path.splitext(filename)[1].lower()
    ext = ext if ext[1:].isalnum() and len(ext) <= 10 else ""
    return f"tenders/{instance.tender_id}/documents/{uuid.uuid4().hex}{ext}"


class TenderDocument(models.Model):
    """One version of one tender document. A new upload under the same name supersedes it."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="documents")
    name = models.CharField(_("name"), max_length=200)
    version = models.PositiveIntegerField(_("version"), default=1)
    file = models.FileField(upload_to=document_upload_to, max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120, default="application/octet-stream")
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    superseded = models.BooleanField(default=False)
    # The amendment notice that published this version (every change after publication has one).
    amendment = models.ForeignKey(
        "trading.Notice", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )

    class Meta:
        ordering = ["tender_id", "name", "-version"]
        constraints = [models.UniqueConstraint(fields=["tender", "name", "version"], name="unique_document_version")]
        verbose_name = _("tender document")
        verbose_name_plural = _("tender documents")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class DocumentDownload(models.Model):
    """One download. Sealed (who, how many) until the bid deadline (电子招标投标办法 Art 21)."""

    document = models.ForeignKey(TenderDocument, on_delete=models.PROTECT, related_name="downloads")
    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    downloaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-downloaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.document} @ {self.downloaded_at:%Y-%m-%d %H:%M:%S}"
