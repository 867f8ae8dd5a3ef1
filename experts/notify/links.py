"""Signed accept/decline links (django.core.signing), one per call and decision.

The token carries the assignment id, the call's nonce and the decision; it expires after
the confirmation window plus a margin. The call's own `respond_by` is the real limit.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from config.errors import DomainError, NotFoundError
from experts import rules
from experts.models import Assignment
from experts.notify.base import public_base_url
from trading.rules import room_acceleration

SALT = "experts.assignment-response"
DECISIONS = ("accept", "decline")


def max_age() -> float:
    return rules.confirmation_minutes() * 60 / room_acceleration() + 600


def response_token(assignment, decision: str) -> str:
    if decision not in DECISIONS:
        raise ValueError(decision)
    return signing.dumps({"a": assignment.pk, "n": assignment.response_nonce, "d": decision}, salt=SALT)


def response_url(assignment, decision: str) -> str:
    return public_base_url() + reverse("experts:respond", args=[response_token(assignment, decision)])


def token_read(token: str):
    """(assignment, decision) for a valid, unexpired token."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired:
        raise DomainError(_("This link has expired."), code="link_expired", status=410) from None
    except signing.BadSignature:
        raise DomainError(_("This link is not valid."), code="link_invalid", status=400) from None
    assignment = Assignment.objects.filter(pk=data.get("a"), response_nonce=data.get("n")).first()
    if assignment is None or data.get("d") not in DECISIONS:
        raise NotFoundError(_("This call does not exist."), code="not_found")
    return assignment, data["d"]
