"""What stays sealed about deposits until the bid deadline (电子招标投标办法 Art 21; DOMAIN.md "Deposit").

Before the deadline only the paying bidder itself, supervisors and the bank (which
reports by HMAC, never as a user) may learn who has paid. Audit events written in
that time must not tell either: they carry `account_hash` (the sub-account) and
`bidder_hash` (the organisation, the same hash that the registration events carry,
trading/visibility.py) instead of ids, numbers or names, and their actor is "system".
The tender's seal salt is revealed when bidding closes, so auditors can link them then.
"""

from __future__ import annotations

from trading import clock
from trading.models import TenderStatus
from trading.visibility import identity_hash

# Statuses in which the bid deadline may still lie ahead.
_BEFORE_CLOSE = (TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.SUSPENDED)


def deposits_sealed(tender) -> bool:
    """True until the bid deadline has passed (by the clock or by the tender's status)."""
    if tender.bidding_closed_at is not None or tender.status not in _BEFORE_CLOSE:
        return False
    if tender.status == TenderStatus.SUSPENDED and tender.suspended_from not in ("", TenderStatus.PUBLISHED):
        return False
    return clock.deadline_now() < tender.bid_deadline


def account_hash(account) -> str:
    return identity_hash(account.tender, "deposit_account", account.pk)


def sealed_refs(account) -> dict:
    """The identity fields of a deposit audit event."""
    return {
        "lot": account.lot_id,
        "account_hash": account_hash(account),
        "bidder_hash": identity_hash(account.tender, "org", account.bidder_id),
    }
