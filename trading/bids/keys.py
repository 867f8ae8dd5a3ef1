"""The key registry: bidder organisations and custodians register P-256 public keys.

Only the public SPKI is ever sent to the server (the browser page and the CLI keep the
private key in a password-protected key file). `key_id` = hex SHA-256 of the SPKI DER.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

import sbe1
from accounts.policy import authorize
from audit.services import audit_record
from config.errors import DomainError, NotFoundError, StateConflict
from trading import clock
from trading.models import KeyHolder, RegisteredKey

MAX_LABEL = 200
KEY_COMMITMENT_PREFIX = "ptrade-key-v1\n"


def key_commitment(key: RegisteredKey) -> str:
    """SHA-256 hex of "ptrade-key-v1\\n" + key_id + "\\n" + nonce (ASCII): what the registration event
    of an organisation key carries instead of the key id (docs/audit.md, "Sealed events")."""
    return hashlib.sha256(f"{KEY_COMMITMENT_PREFIX}{key.key_id}\n{key.commit_nonce}".encode("ascii")).hexdigest()


def _registered_data(key: RegisteredKey) -> dict:
    data = {"holder": key.holder, "organisation": key.organisation_id, "user": key.user_id}
    if key.holder == KeyHolder.ORGANISATION:  # joined to a bid only after the deadline reveal
        return {**data, "key_commitment": key_commitment(key)}
    return {**data, "key_id": key.key_id}  # custodians' keys are named in public opening-key events


def parse_spki(public_key: str) -> tuple[str, str]:
    """(canonical base64 SPKI, key_id) of a P-256 public key, or DomainError."""
    try:
        key = sbe1.load_public_key(public_key.strip() if isinstance(public_key, str) else public_key)
    except sbe1.SBE1Error as exc:
        raise DomainError(
            _("The public key must be a P-256 SubjectPublicKeyInfo in DER, base64 (SPECS.md §1): %(why)s")
            % {"why": exc.args[0]},
            code="bad_key",
            fields={"public_key": [exc.code]},
        ) from None
    return sbe1.spki_b64(key), sbe1.key_id(key)


@transaction.atomic
def key_register(*, actor, public_key: str, holder: str, label: str = "") -> RegisteredKey:
    """Register `actor`'s organisation key (holder "organisation") or custodian key (holder "custodian")."""
    if holder not in KeyHolder.values:
        raise DomainError(_("Unknown key holder."), fields={"holder": ["organisation or custodian"]})
    label = (label or "").strip()[:MAX_LABEL]
    spki, kid = parse_spki(public_key)
    if holder == KeyHolder.ORGANISATION:
        authorize(actor, "sbe1_key.register_organisation")
        owner = {"organisation_id": actor.organisation_id}
    else:
        authorize(actor, "sbe1_key.register_custodian")
        owner = {"user": actor}
    if RegisteredKey.objects.filter(key_id=kid).exists():
        raise StateConflict(_("This public key is registered already."), code="key_exists")
    key = RegisteredKey.objects.create(
        holder=holder, key_id=kid, public_spki=spki, label=label, registered_by=actor, registered_at=clock.now(),
        **owner,
    )
    audit_record(
        actor=actor,
        action="sbe1_key.registered",
        obj=key,
        data=_registered_data(key),
    )
    return key


@transaction.atomic
def key_revoke(*, actor, key: RegisteredKey) -> RegisteredKey:
    """Revoke a key: no new envelope or opening key may use it (stored bids still open with it)."""
    key = RegisteredKey.objects.select_for_update().get(pk=key.pk)
    authorize(actor, "sbe1_key.revoke", key)
    if key.revoked_at is not None:
        raise StateConflict(_("This key is revoked already."), code="key_revoked")
    key.revoked_at = clock.now()
    key.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="sbe1_key.revoked", obj=key,
                 data={"key_id": key.key_id, "key_nonce": key.commit_nonce})
    return key


# --- selectors ------------------------------------------------------------------------------


def keys_of(*, user) -> list[RegisteredKey]:
    """The keys `user` may see and manage: its organisation's keys and its own custodian keys."""
    own = Q(holder=KeyHolder.CUSTODIAN, user_id=user.pk)
    if getattr(user, "organisation_id", None):
        own |= Q(holder=KeyHolder.ORGANISATION, organisation_id=user.organisation_id)
    return list(RegisteredKey.objects.filter(own).order_by("-registered_at", "-pk"))


def key_get(*, user, pk: int) -> RegisteredKey:
    key = RegisteredKey.objects.filter(pk=pk).first()
    org_id = getattr(user, "organisation_id", None)
    if key is None or not (key.user_id == user.pk or (key.organisation_id and key.organisation_id == org_id)):
        raise NotFoundError(_("No such key."))
    return key


def active_org_key(org_id: int, key_id: str) -> RegisteredKey | None:
    return RegisteredKey.objects.filter(
        holder=KeyHolder.ORGANISATION, organisation_id=org_id, key_id=key_id, revoked_at__isnull=True
    ).first()


def latest_custodian_key(user_id: int) -> RegisteredKey | None:
    return (
        RegisteredKey.objects.filter(holder=KeyHolder.CUSTODIAN, user_id=user_id, revoked_at__isnull=True)
        .order_by("-registered_at", "-pk")
        .first()
    )
