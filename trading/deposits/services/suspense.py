"""The suspense list: transfers the platform could not book to a sub-account, resolved by an administrator."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from config.errors import DomainError, NotFoundError, RuleViolation, StateConflict
from trading import clock
from trading.deposits.booking import Ledger, book_arrival, lock_accounts
from trading.deposits.vaccount import normalize_account_number
from trading.models.deposit import BankTransaction, RefundPurpose, TransferKind, TransferOutcome
from trading.rules import deposit_refund_rules


def _lock_txn(txn: BankTransaction) -> BankTransaction:
    return BankTransaction.objects.select_for_update().get(pk=txn.pk)


@transaction.atomic
def suspense_resolve(
    *, actor, txn: BankTransaction, action: str, account_number: str = "", note: str = ""
) -> BankTransaction:
    """Resolve a suspense transaction: "return" it to the payer, "assign" it to a sub-account the admin
    identified (booked as if the bank had named it), or "close" a debit with a note."""
    authorize(actor, "deposit.admin")
    txn = _lock_txn(txn)
    if not txn.in_suspense:
        raise StateConflict(_("This transaction is not in the suspense list."), code="not_in_suspense")
    now = clock.now()
    ledger = Ledger(now=now, source="suspense")
    if action == "return":
        if txn.kind != TransferKind.ARRIVAL:
            raise StateConflict(_("Only arrivals can be returned."), code="not_an_arrival")
        rule = deposit_refund_rules("works").return_invalid
        ledger.instruct(
            account=None,
            purpose=RefundPurpose.SUSPENSE_RETURN,
            trigger="suspense",
            legal_source=rule.source,
            principal=txn.amount,
            value_dates=[(txn.amount, txn.booked_at)],
            payee=(txn.counterparty_account, txn.counterparty_name, txn.counterparty_bank),
            from_account=txn.virtual_account,
            due_at=rule.after(now),
            bank_transaction=txn,
        )
        txn.outcome = TransferOutcome.RETURNED
    elif action == "assign":
        if txn.kind != TransferKind.ARRIVAL:
            raise StateConflict(_("Only arrivals can be assigned to a sub-account."), code="not_an_arrival")
        number = normalize_account_number(account_number)
        account = next(iter(lock_accounts(numbers=[number]).values()), None)
        if account is None:
            raise NotFoundError(_("No virtual sub-account %(n)s.") % {"n": number}, code="unknown_account")
        book_arrival(ledger, account, txn)
        txn.account, txn.outcome = account, TransferOutcome.ASSIGNED
    elif action == "close":
        if not note.strip():
            raise RuleViolation(_("Closing a suspense item needs a note."), code="note_required")
    else:
        raise DomainError(_("action must be return, assign or close"), code="invalid_action")
    txn.resolved_at, txn.resolved_by, txn.resolution_note = now, actor, note
    txn.save(update_fields=["outcome", "account", "resolved_at", "resolved_by", "resolution_note"])
    ledger.event(
        "deposit.suspense_resolved",
        txn,
        {"tender": txn.account.tender_id if txn.account_id else None, "txn": txn.txn_id, "action": action,
         "amount": txn.amount, "note": note[:500]},
    )
    ledger.flush(actor=actor)
    return txn
