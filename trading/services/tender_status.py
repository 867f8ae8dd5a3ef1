"""The tender status machine: the whole graph, in one module.

    draft ─► published ─► bidding_closed ─► opening ─► evaluating ─► publicity ─► awarded ─► contracted ─► archived
      │          │  ▲            │              │            │         │  ▲  │          │
      │          ▼  │            ▼              ▼            ▼         ▼  │  ▼          ▼
      │       suspended ◄───────────────────────────────────────── (objections)     failed ─► archived
      ▼
   cancelled ─► archived          (published … publicity may be cancelled; bidding_closed … awarded may fail)

`suspended` (实施条例 Art 22, objection pending; Art 54 during publicity) returns
only to the status it came from (`Tender.suspended_from`). Every transition goes
through `tender_transition`, which locks the row, refuses an illegal move with
`StateConflict` (409) naming from and to, and writes the audit event in the same
transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from audit.sealed import seal_reveal
from audit.services import audit_record
from config.errors import StateConflict
from trading import clock
from trading.models import Tender, TenderStatus

S = TenderStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PUBLISHED, S.CANCELLED}),
    S.PUBLISHED: frozenset({S.BIDDING_CLOSED, S.SUSPENDED, S.CANCELLED}),
    S.SUSPENDED: frozenset({S.PUBLISHED, S.PUBLICITY, S.CANCELLED}),
    S.BIDDING_CLOSED: frozenset({S.OPENING, S.FAILED, S.CANCELLED}),
    S.OPENING: frozenset({S.EVALUATING, S.FAILED, S.CANCELLED}),
    S.EVALUATING: frozenset({S.PUBLICITY, S.FAILED, S.CANCELLED}),
    # publicity → evaluating: an upheld objection sends the report back to the committee.
    S.PUBLICITY: frozenset({S.AWARDED, S.EVALUATING, S.SUSPENDED, S.FAILED, S.CANCELLED}),
    # awarded → failed: the winner refuses to sign and no other candidate remains.
    S.AWARDED: frozenset({S.CONTRACTED, S.FAILED}),
    S.CONTRACTED: frozenset({S.ARCHIVED}),
    S.FAILED: frozenset({S.ARCHIVED}),
    S.CANCELLED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}

# Statuses from which a suspension may start (and to which it returns).
SUSPENDABLE = frozenset({S.PUBLISHED, S.PUBLICITY})


def can_transition(current: str, to: str) -> bool:
    return to in TRANSITIONS.get(current, frozenset())


def lock_tender(tender: Tender) -> Tender:
    """Re-read the tender under a row lock (FOR UPDATE on PostgreSQL) and refresh the caller's copy.

    Trading services lock the tender before writing the audit event, always in
    that order, so that concurrent writers never deadlock.
    """
    locked = Tender.objects.select_for_update().get(pk=tender.pk)
    for field in locked._meta.concrete_fields:
        setattr(tender, field.attname, getattr(locked, field.attname))
    return tender


def illegal_transition(tender: Tender, current: str, to: str) -> StateConflict:
    """The refusal of a move the graph does not allow, naming from and to."""
    return StateConflict(
        _("Tender %(code)s: cannot go from '%(from)s' to '%(to)s'.") % {"code": tender.code, "from": current, "to": to},
        code="illegal_transition",
        fields={"status": [f"{current} → {to} is not allowed"]},
    )


@transaction.atomic
def tender_transition(*, actor, tender: Tender, to: str, reason: str = "", data: dict | None = None) -> Tender:
    """Move `tender` to status `to`, or refuse with StateConflict naming from and to."""
    lock_tender(tender)
    seal_held = tender.audit_seal_holds
    current = tender.status
    to = TenderStatus(to).value
    if not can_transition(current, to):
        raise illegal_transition(tender, current, to)
    if current == S.SUSPENDED and to != S.CANCELLED and to != tender.suspended_from:
        raise illegal_transition(tender, current, to)
    if to == S.SUSPENDED:
        if current not in SUSPENDABLE:
            raise illegal_transition(tender, current, to)
        tender.suspended_from = current
    elif current == S.SUSPENDED:
        tender.suspended_from = ""
    now = clock.now()
    update = ["status", "suspended_from", "updated_at"]
    if to == S.PUBLISHED and tender.published_at is None:
        tender.published_at = now
        update.append("published_at")
    if to == S.BIDDING_CLOSED:
        tender.bidding_closed_at = now
        update.append("bidding_closed_at")
    tender.status = to
    reveal = {}
    if seal_held and not tender.audit_seal_holds:  # the seal ends here: publish the salt and the openings
        reveal = seal_reveal(tender=tender)
    tender.save(update_fields=update)
    audit_record(
        actor=actor,
        action="tender.status_changed",
        obj=tender,
        data={"tender": tender.pk, "from": current, "to": to, "reason": reason, **(data or {}), **reveal},
    )
    return tender
