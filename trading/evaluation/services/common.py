"""Helpers shared by the evaluation services."""

from __future__ import annotations

import hashlib

from django.utils import timezone
from django.utils.translation import gettext as _

from audit.canonical import canonical_bytes, normalize
from config.errors import DomainError


def sha256_json(content) -> str:
    """SHA-256 (hex) of the canonical JSON bytes (SPECS.md §2) of `content`."""
    return hashlib.sha256(canonical_bytes(normalize(content))).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fmt(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S %Z}"


def clean_text(value: str, field: str, *, required: bool = True, limit: int = 20_000) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("%(field)s is required.") % {"field": field}, fields={field: ["required"]})
    if len(value) > limit:
        raise DomainError(_("%(field)s: at most %(n)s characters.") % {"field": field, "n": limit},
                          fields={field: [f"at most {limit} characters"]})
    return value


def subject(obj) -> str:
    """The ScheduledStep subject of a model instance: "app_label.model:<pk>"."""
    return f"{obj._meta.app_label}.{obj._meta.model_name}:{obj.pk}"
