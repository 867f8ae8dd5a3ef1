"""Helpers shared by the trading tests."""

from django.core.files.uploadedfile import SimpleUploadedFile


def pdf(name: str = "tender-documents.pdf", content: bytes = b"%PDF-1.4 tender documents\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")
