"""Online registration for a lot (投标报名), sealed until the deadline.

The audit events of a registration are sealed (audit/sealed.py): before the deadline the
log holds only an unlinkable commitment; the event itself (the bidder and the user as
`identity_hash` values, trading/visibility.py) is published with the salt at the deadline.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.sealed import sealed_record
from config.errors import RuleViolation, StateConflict
from credit.services import access_check
from trading import clock
from trading.models import Lot, Registration, RegistrationStatus, TenderStatus
from trading.rules import AGENT_MAY_NOT_BID, OBJECTION_SUSPENDS, TENDERER_MAY_NOT_BID
from trading.services.deadlines import assert_before_deadline
from trading.services.deposit_hook import deposit_instructions
from trading.services.tender_status import lock_tender
from trading.visibility import identity_hash


def _sealed_identity(tender, actor) -> dict:
    return {
        "bidder_hash": identity_hash(tender, "org", actor.organisation_id),
        "actor_hash": identity_hash(tender, "user", actor.pk),
    }


def _require_open(tender) -> None:
    if tender.status == TenderStatus.SUSPENDED:
        raise StateConflict(
            _("Tender %(code)s is suspended while an objection is answered (%(src)s).")
            % {"code": tender.code, "src": OBJECTION_SUSPENDS},
            code="suspended",
        )
    if tender.status != TenderStatus.PUBLISHED:
        raise StateConflict(
            _("Tender %(code)s is %(status)s: registration is closed.")
            % {"code": tender.code, "status": tender.get_status_display()},
            code="not_open",
        )


@transaction.atomic
def registration_create(*, actor, lot: Lot) -> tuple[Registration, dict]:
    """Register the actor's organisation for `lot`; returns the registration and its deposit instructions."""
    authorize(actor, "registration.create", lot)
    tender = lock_tender(lot.tender)
    _require_open(tender)
    assert_before_deadline(tender, what=_("Registration"))
    org_id = actor.organisation_id
    if org_id == tender.agent_id:
        raise RuleViolation(
            _("The tender agent may not bid in a project it acts for (%(src)s).") % {"src": AGENT_MAY_NOT_BID},
            code="conflict_of_interest",
        )
    if org_id == tender.tenderer_id:
        raise RuleViolation(
            _("The tenderer may not bid in its own tender (%(src)s).") % {"src": TENDERER_MAY_NOT_BID},
            code="conflict_of_interest",
        )
    now = clock.now()
    access_check(org_id, "tender_registration", at=now)  # market access: credit bars (docs/credit.md)
    existing = Registration.objects.select_for_update().filter(lot=lot, bidder_id=org_id).first()
    if existing and existing.status == RegistrationStatus.REGISTERED:
        raise StateConflict(_("Your organisation is already registered for this lot."), code="already_registered")
    if existing:
        existing.status, existing.registered_by, existing.updated_at = RegistrationStatus.REGISTERED, actor, now
        existing.save(update_fields=["status", "registered_by", "updated_at"])
        registration = existing
    else:
        try:
            with transaction.atomic():
                registration = Registration.objects.create(
                    lot=lot, tender=tender, bidder_id=org_id, registered_by=actor, created_at=now, updated_at=now
                )
        except IntegrityError:
            raise StateConflict(
                _("Your organisation is already registered for this lot."), code="already_registered"
            ) from None
    sealed_record(
        tender=tender,
        actor="system",
        action="registration.created",
        obj=f"trading.lot:{lot.pk}",
        data={"tender": tender.pk, "lot": lot.pk, **_sealed_identity(tender, actor)},
    )
    return registration, deposit_instructions(registration)


@transaction.atomic
def registration_withdraw(*, actor, registration: Registration) -> Registration:
    authorize(actor, "registration.withdraw", registration)
    tender = lock_tender(registration.tender)
    _require_open(tender)
    assert_before_deadline(tender, what=_("Withdrawing a registration"))
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status != RegistrationStatus.REGISTERED:
        raise StateConflict(_("This registration is already withdrawn."), code="already_withdrawn")
    registration.status, registration.updated_at = RegistrationStatus.WITHDRAWN, clock.now()
    registration.save(update_fields=["status", "updated_at"])
    sealed_record(
        tender=tender,
        actor="system",
        action="registration.withdrawn",
        obj=f"trading.lot:{registration.lot_id}",
        data={"tender": tender.pk, "lot": registration.lot_id, **_sealed_identity(tender, actor)},
    )
    return registration
