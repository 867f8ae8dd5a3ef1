"""The deadline check used by every action that must happen before the bid deadline.

It reads the database's time (`clock.deadline_now()`) at the moment of the request; it never
depends on whether the deadline task has run yet. The bid submission
(trading/bids/submission.py) calls `assert_before_deadline` too, inside its transaction.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import RuleViolation
from trading import clock
from trading.models import Tender
from trading.rules import DEADLINE_IS_FINAL


def before_deadline(tender: Tender, at=None) -> bool:
    return (at or clock.deadline_now()) < tender.bid_deadline


def assert_before_deadline(tender: Tender, *, what: str | None = None) -> None:
    """Refuse with RuleViolation (code deadline_passed) once the bid deadline has passed; `what`
    names the refused action in the message ("Registration", ...), already translated."""
    if not before_deadline(tender):
        deadline = timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M:%S %Z")
        raise RuleViolation(
            _("%(what)s is no longer possible: the bid deadline %(t)s has passed (%(src)s).")
            % {"what": what or _("This action"), "t": deadline, "src": DEADLINE_IS_FINAL},
            code="deadline_passed",
        )
