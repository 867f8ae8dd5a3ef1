"""What stays sealed about deposits until the bid deadline (电子招标投标办法 Art 21; DOMAIN.md "Deposit").

Before the deadline only the paying bidder itself, supervisors and the bank (which
reports by HMAC, never as a user) may learn who has paid. Audit events written in
that time must not tell either: every deposit event of a tender goes through
`deposit_record`, which seals it (audit/sealed.py: the log holds an unlinkable
commitment, not even the tender) until the deadline step publishes the tender's salt
and the openings. The opened events carry `account_hash` (the sub-account) and
`bidder_hash` (the organisation, trading/visibility.py) instead of ids or names.
"""

from __future__ import annotations

from typing import Any

from audit.models import AuditEvent
from audit.sealed import sealed_record
from audit.services import audit_record
from trading import clock
from trading.models import Tender, TenderStatus
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


def deposit_record(*, actor: Any, action: str, obj: Any, data: dict) -> AuditEvent:
    """Write a deposit audit event: sealed when it concerns a tender (data["tender"]) whose
    deadline step has not run yet, in clear otherwise."""
    tender_id = data.get("tender")
    tender = Tender.objects.filter(pk=tender_id).first() if tender_id else None
    if tender is None:
        return audit_record(actor=actor, action=action, obj=obj, data=data)
    return sealed_record(tender=tender, actor=actor, action=action, obj=obj, data=data)


def account_hash(account) -> str:
    return identity_hash(account.tender, "deposit_account", account.pk)


def sealed_refs(account) -> dict:
    """The identity fields of a deposit audit event."""
    return {
        "lot": account.lot_id,
        "account_hash": account_hash(account),
        "bidder_hash": identity_hash(account.tender, "org", account.bidder_id),
    }
