"""The opening key ceremony, run when a tender is published (SPECS.md §1).

For every lot: a fresh P-256 opening key pair is made in memory, its private scalar is
split with Shamir k-of-n (default 2 of 3) among the custodians — the tender agent's
custodian, a supervisor custodian and a platform custodian — each share encrypted to
that custodian's registered public key (sbe1.create_opening_key); the private key is
then dropped. Only the public key and the encrypted shares are stored. The audit event
carries the public facts: key ids, threshold, custodians and hashes of the share
containers — never a share.

`opening_keys_create` is called at the end of `trading.services.tenders.tender_publish`
inside its transaction: a missing custodian key refuses the publication (400).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import sbe1
from accounts.models import User
from accounts.roles import Role
from audit.canonical import canonical_bytes
from audit.services import audit_record
from config.errors import RuleViolation
from trading import clock
from trading.bids.keys import latest_custodian_key
from trading.models import CustodianRole, KeyShare, OpeningKey, RegisteredKey, Tender

DEFAULT_THRESHOLD = 2


def threshold() -> int:
    return int(getattr(settings, "OPENING_KEY_THRESHOLD", DEFAULT_THRESHOLD))


@dataclass(frozen=True)
class Custodian:
    role: str
    user: User
    key: RegisteredKey


def _candidates(role: str, tender: Tender):
    qs = User.objects.filter(is_active=True, role_grants__role=Role.CUSTODIAN)
    if role == CustodianRole.AGENT:
        qs = qs.filter(role_grants__role=Role.AGENT, organisation_id=tender.agent_id)
    elif role == CustodianRole.SUPERVISOR:
        qs = qs.filter(role_grants__role=Role.SUPERVISOR)
    else:
        qs = qs.filter(role_grants__role=Role.PLATFORM_ADMIN)
    return qs.distinct().order_by("pk")


_ROLE_NAMES = {  # inserted into translated messages: translated too (no English inside Chinese)
    CustodianRole.AGENT: gettext_lazy("the tender agent"),
    CustodianRole.SUPERVISOR: gettext_lazy("the supervisors"),
    CustodianRole.PLATFORM: gettext_lazy("the platform"),
}
_ROLE_OF = {CustodianRole.AGENT: Role.AGENT, CustodianRole.SUPERVISOR: Role.SUPERVISOR,
            CustodianRole.PLATFORM: Role.PLATFORM_ADMIN}


def custodians_for(tender: Tender) -> list[Custodian]:
    """The default custodians (agent, supervisor, platform), each with an active registered key.

    Per role the first user (by id) with a registered key is taken; distinct people are
    required, or one person could hold k shares. Raises RuleViolation naming what is missing.
    """
    chosen: list[Custodian] = []
    problems: list[str] = []
    for role in (CustodianRole.AGENT, CustodianRole.SUPERVISOR, CustodianRole.PLATFORM):
        users = [u for u in _candidates(role, tender) if u.pk not in {c.user.pk for c in chosen}]
        if not users:
            problems.append(
                _("no key custodian is appointed for %(who)s (a user with the roles custodian and %(role)s)")
                % {"who": _ROLE_NAMES[role], "role": _ROLE_OF[role].label}
            )
            continue
        keyed = next(((u, k) for u in users if (k := latest_custodian_key(u.pk)) is not None), None)
        if keyed is None:
            problems.append(
                _("the custodian %(user)s for %(who)s has not registered a public key")
                % {"user": users[0].username, "who": _ROLE_NAMES[role]}
            )
            continue
        chosen.append(Custodian(role, keyed[0], keyed[1]))
    if problems:
        raise RuleViolation(
            _("The opening key cannot be made, so the tender cannot be published: %(list)s (SPECS.md §1; "
              "电子招标投标办法 Art 28: nobody may decrypt a bid before the deadline).")
            % {"list": "; ".join(problems)},
            code="custodian_key_missing",
            fields={"custodians": problems},
        )
    return chosen


def container_sha256(container: dict) -> str:
    return hashlib.sha256(canonical_bytes(container)).hexdigest()


@transaction.atomic
def opening_keys_create(*, actor, tender: Tender) -> list[OpeningKey]:
    """Make one opening key per lot of `tender` (idempotent: lots that have one are skipped)."""
    custodians = custodians_for(tender)
    k = threshold()
    made: list[OpeningKey] = []
    for lot in tender.lots.all().order_by("number"):
        if OpeningKey.objects.filter(lot=lot).exists():
            continue
        # The private key exists only inside create_opening_key; it is never stored or logged.
        result = sbe1.create_opening_key([c.key.public_spki for c in custodians], threshold=k)
        opening_key = OpeningKey.objects.create(
            lot=lot, tender=tender, key_id=result.key_id, public_spki=sbe1.spki_b64(
                sbe1.load_public_key(result.public_spki)),
            threshold=result.threshold, share_count=len(result.shares), created_at=clock.now(),
        )
        shares = []
        for custodian, container in zip(custodians, result.shares, strict=True):
            share = KeyShare.objects.create(
                opening_key=opening_key, x=container["x"], role=custodian.role, custodian=custodian.user,
                custodian_key=custodian.key, container=container, container_sha256=container_sha256(container),
            )
            shares.append(share)
        audit_record(
            actor=actor,
            action="opening_key.created",
            obj=opening_key,
            data={
                "tender": tender.pk,
                "lot": lot.pk,
                "opening_key_id": opening_key.key_id,
                "public_key": opening_key.public_spki,
                "threshold": opening_key.threshold,
                "custodians": [
                    {"x": s.x, "role": s.role, "user": s.custodian_id, "key_id": s.custodian_key.key_id,
                     "container_sha256": s.container_sha256}
                    for s in shares
                ],
                "private_key_discarded": True,
            },
        )
        made.append(opening_key)
    return made
