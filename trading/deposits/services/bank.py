"""The bank's signed messages: the transfer notification webhook and the bank's refund-export request.

Every message is verified (HMAC, freshness) and its digest remembered, so a replay is refused (409).
Notifications book through `trading.deposits.booking.transfers_book` (idempotent on the txn id).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from config.errors import DomainError, StateConflict
from trading import clock
from trading.deposits import bankmsg, conf
from trading.deposits.booking import BookResult, transfers_book
from trading.deposits.errors import DepositFormatError, SignatureRefused
from trading.deposits.interest import BANK_TZ
from trading.deposits.services.instructions import refund_instructions_export
from trading.models.deposit import BankMessage, TransferSource


class BankRefused(DomainError):
    """A bank message refused before anything was booked (401: signature, 409: replay)."""

    status = 401
    code = "bad_signature"


def bank_verify(*, body: bytes, timestamp: str | None, signature: str | None) -> bankmsg.VerifiedMessage:
    try:
        return bankmsg.verify(
            secrets=conf.webhook_secrets(),
            timestamp=timestamp,
            signature=signature,
            body=body,
            now=clock.now().timestamp(),
            tolerance=conf.webhook_tolerance(),
        )
    except SignatureRefused as exc:
        raise BankRefused(exc.message, code=exc.code) from None


def remember_message(verified: bankmsg.VerifiedMessage, *, txn_id: str = "", result: str = "") -> None:
    """Record the signed payload's digest; the same payload again is a replay (409)."""
    try:
        with transaction.atomic():
            BankMessage.objects.create(
                digest=verified.digest,
                signed_at=datetime.fromtimestamp(verified.timestamp, tz=BANK_TZ),
                received_at=clock.now(),
                txn_id=txn_id,
                result=result,
            )
    except IntegrityError:
        raise BankRefused(
            _("This signed message was received before: replays are refused."), code="replayed", status=409
        ) from None


def bank_notification_receive(*, body: bytes, timestamp: str | None, signature: str | None) -> BookResult:
    """The webhook: verify the HMAC and freshness, refuse replays, book the transfer (idempotent on txn_id)."""
    verified = bank_verify(body=body, timestamp=timestamp, signature=signature)
    try:
        transfer = bankmsg.parse_notification(body)
    except DepositFormatError as exc:
        raise DomainError(exc.message, code=exc.code, fields={exc.field: [exc.message]} if exc.field else None) \
            from None
    for attempt in range(3):
        try:
            with transaction.atomic():
                remember_message(verified, txn_id=transfer.txn_id)
                result = transfers_book([transfer], source=TransferSource.WEBHOOK)[0]
                if result.result == "conflict":
                    raise StateConflict(
                        _("Transaction %(txn)s was reported before with other content.") % {"txn": transfer.txn_id},
                        code="txn_conflict",
                    )
                BankMessage.objects.filter(digest=verified.digest).update(result=result.result)
                return result
        except IntegrityError:
            # Two new transactions with one txn_id raced on the unique constraint: the retry sees the winner.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@transaction.atomic
def bank_refund_export(*, verified: bankmsg.VerifiedMessage) -> list[dict]:
    """The bank's signed request for the open refund instructions (replays refused)."""
    remember_message(verified, result="refund_export")
    rows, _text = refund_instructions_export(actor="system", bank=True)
    return rows
