"""Electronic guarantee letters (电子保函) in place of a cash deposit, and the issuers whose keys are trusted."""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.services import audit_record
from config.errors import DomainError, RuleViolation, StateConflict
from trading import clock
from trading.deposits import conf, guarantee
from trading.deposits.booking import lock_accounts, refresh_status
from trading.deposits.errors import DepositFormatError
from trading.deposits.sealing import deposit_record, sealed_refs
from trading.deposits.services.statements import read_upload
from trading.models import TenderStatus
from trading.models.deposit import DepositAccount, GuaranteeIssuer, GuaranteeLetter
from trading.rules import DEPOSIT_BEFORE_DEADLINE, DEPOSIT_VALIDITY
from trading.visibility import identity_hash


def trusted_issuer_keys() -> dict[str, guarantee.TrustedKey]:
    keys = {}
    for issuer in GuaranteeIssuer.objects.filter(revoked_at__isnull=True):
        key, alg, kid = guarantee.load_public_key(issuer.public_key)
        keys[kid] = guarantee.TrustedKey(key_id=kid, alg=alg, public_key=key, issuer_uscc=issuer.uscc,
                                         issuer_name=issuer.name)
    return keys


@transaction.atomic
def guarantee_issuer_add(*, actor, name: str, uscc: str, public_key: str) -> GuaranteeIssuer:
    """Trust an insurer's or bank's signing key (P-256 or Ed25519, SPKI PEM/DER/base64)."""
    authorize(actor, "deposit.admin")
    try:
        key, alg, kid = guarantee.load_public_key(public_key)
    except DepositFormatError as exc:
        raise DomainError(exc.message, code=exc.code, fields={"public_key": [exc.message]}) from None
    if GuaranteeIssuer.objects.filter(key_id=kid).exists():
        raise StateConflict(_("This key is already registered."), code="duplicate_key")
    issuer = GuaranteeIssuer.objects.create(
        name=name, uscc=uscc.strip().upper(), key_id=kid, alg=alg, public_key=guarantee.spki_b64(key),
        added_by=actor, added_at=clock.now(),
    )
    audit_record(actor=actor, action="deposit.issuer_trusted", obj=issuer,
                 data={"tender": None, "name": name, "uscc": issuer.uscc, "key_id": kid, "alg": alg})
    return issuer


@transaction.atomic
def guarantee_issuer_revoke(*, actor, issuer: GuaranteeIssuer) -> GuaranteeIssuer:
    authorize(actor, "deposit.admin")
    issuer = GuaranteeIssuer.objects.select_for_update().get(pk=issuer.pk)
    if issuer.revoked_at is None:
        issuer.revoked_at = clock.now()
        issuer.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="deposit.issuer_revoked", obj=issuer,
                     data={"tender": None, "key_id": issuer.key_id})
    return issuer


@transaction.atomic
def guarantee_submit(*, actor, account: DepositAccount, document) -> GuaranteeLetter:
    """Accept an electronic guarantee letter (电子保函) in place of the cash deposit, before the deadline."""
    authorize(actor, "deposit.submit_guarantee", account)
    account = next(iter(lock_accounts(pks=[account.pk]).values()))
    tender, lot, now = account.tender, account.lot, clock.deadline_now()
    if now >= tender.bid_deadline or tender.status != TenderStatus.PUBLISHED:
        raise RuleViolation(
            _("A guarantee must be lodged before the bid deadline (%(src)s).") % {"src": DEPOSIT_BEFORE_DEADLINE},
            code="deadline_passed",
        )
    raw = read_upload(document) if not isinstance(document, (str, dict)) else document
    try:
        letter = guarantee.verify_letter(raw, trusted_issuer_keys())
        guarantee.check_letter(
            letter,
            guarantee.LetterExpectation(
                amount=lot.deposit_amount,
                beneficiary_uscc=tender.tenderer.uscc,
                applicant_uscc=account.bidder.uscc,
                tender=str(tender.pk),
                lot=str(lot.pk),
                at=now,
                cover_until=tender.bid_deadline + timedelta(days=conf.guarantee_validity_days()),
            ),
        )
    except DepositFormatError as exc:
        message = exc.message
        if exc.code == "validity_too_short":
            message = f"{message} ({DEPOSIT_VALIDITY})"
        raise RuleViolation(message, code=exc.code, fields={exc.field or "document": [message]}) from None
    issuer = GuaranteeIssuer.objects.get(key_id=letter.key_id)
    if GuaranteeLetter.objects.filter(sha256=letter.sha256).exists() or GuaranteeLetter.objects.filter(
        issuer=issuer, letter_no=letter.letter_no
    ).exists():
        raise StateConflict(_("This guarantee letter was lodged before."), code="duplicate_letter")
    record = GuaranteeLetter.objects.create(
        account=account, issuer=issuer, letter_no=letter.letter_no, sha256=letter.sha256,
        document=raw if isinstance(raw, dict) else json.loads(raw),
        amount=letter.amount, valid_from=letter.valid_from, valid_until=letter.valid_until, accepted_at=now,
    )
    account.guarantee_amount = max(account.guarantee_amount, letter.amount)
    refresh_status(account)
    account.updated_at = now
    account.save(update_fields=["guarantee_amount", "status", "updated_at"])
    deposit_record(
        actor="system",
        action="deposit.guarantee_accepted",
        obj=f"trading.lot:{lot.pk}",
        data={"tender": tender.pk, **sealed_refs(account), "letter_sha256": letter.sha256, "amount": letter.amount,
              "issuer_key_id": letter.key_id, "valid_until": letter.valid_until,
              "actor_hash": identity_hash(tender, "user", actor.pk)},
    )
    return record
