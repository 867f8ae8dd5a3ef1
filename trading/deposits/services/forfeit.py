"""Forfeit of a deposit: a bid revoked after the deadline (实施条例 Art 35) or a winner refusing to sign
the contract (实施条例 Art 74): `deposit_forfeit(registration, reason, *, source=None, note="")`."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from config.errors import RuleViolation, StateConflict
from credit.rules import RecordKind
from credit.services import record_propose
from trading import clock
from trading.deposits.booking import Ledger, lock_accounts
from trading.deposits.money import ZERO
from trading.deposits.sealing import sealed_refs
from trading.deposits.services.refunds import registration_of, uncovered_arrivals
from trading.models.deposit import (
    OPEN_REFUND_STATUSES,
    DepositAccount,
    EntryKind,
    ForfeitReason,
    RefundItem,
    RefundPurpose,
)
from trading.rules import DEPOSIT_FORFEIT_REFUSED_CONTRACT, DEPOSIT_FORFEIT_REVOKED, deposit_refund_rules

_FORFEIT_ALIASES = {
    "bid_revoked": ForfeitReason.BID_REVOKED,
    "revoked": ForfeitReason.BID_REVOKED,
    "decryption_failed": ForfeitReason.BID_REVOKED,
    "winner_refused_contract": ForfeitReason.WINNER_REFUSED,
    "refused_to_sign": ForfeitReason.WINNER_REFUSED,
    "winner_refused": ForfeitReason.WINNER_REFUSED,
}
_FORFEIT_SOURCES = {
    ForfeitReason.BID_REVOKED: DEPOSIT_FORFEIT_REVOKED,
    ForfeitReason.WINNER_REFUSED: DEPOSIT_FORFEIT_REFUSED_CONTRACT,
}


def _forfeit_reason(reason: str, source: str | None) -> tuple[str, str]:
    """(reason code, note) — a known code, or free text whose legal source names Art 35 / Art 74."""
    code = _FORFEIT_ALIASES.get((reason or "").strip().lower())
    if code:
        return code, ""
    src = source or ""
    if "Art 35" in src or "撤销" in (reason or ""):
        return ForfeitReason.BID_REVOKED, reason
    if "Art 74" in src:
        return ForfeitReason.WINNER_REFUSED, reason
    raise RuleViolation(
        _("A deposit is forfeited only for a bid revoked after the deadline (%(a)s) or a winner refusing to "
          "sign the contract (%(b)s).") % {"a": DEPOSIT_FORFEIT_REVOKED, "b": DEPOSIT_FORFEIT_REFUSED_CONTRACT},
        code="forfeit_reason",
    )


@transaction.atomic
def deposit_forfeit(registration=None, reason: str = "", *, source: str | None = None, note: str = "",
                    actor="system") -> DepositAccount | None:
    """Keep the deposit: a bid revoked (decryption failed by the bidder's fault, 实施条例 Art 35) or a
    winner refusing to sign (实施条例 Art 74). Books a forfeit entry with the reason and instructs
    the transfer to the tenderer; a guarantee letter is claimed instead (recorded, no cash moves)."""
    registration = registration_of(registration)
    code, text = _forfeit_reason(reason, source)
    note = "; ".join(x for x in (text, note) if x)
    account = next(iter(lock_accounts(pks=DepositAccount.objects.filter(
        registration=registration).values_list("pk", flat=True)).values()), None)
    if account is None:
        return None
    if account.forfeited_at is not None:
        return account  # idempotent
    open_valid = RefundItem.objects.filter(entry__account=account, entry__valid=True,
                                           instruction__status__in=OPEN_REFUND_STATUSES,
                                           instruction__purpose=RefundPurpose.REFUND)
    if open_valid.exists():
        raise StateConflict(_("The deposit is already being refunded."), code="refund_in_progress")
    now = clock.now()
    ledger = Ledger(now=now, source="forfeit")
    valid = [e for e in uncovered_arrivals(account) if e.valid]
    amount = sum((e.amount for e in valid), ZERO)
    legal = _FORFEIT_SOURCES[code]
    ledger.book(account, kind=EntryKind.FORFEIT, amount=-amount, value_at=now, reason=code,
                note=(note or legal)[:2000])
    account.valid_total -= amount
    account.forfeited_total += amount
    account.forfeited_at, account.forfeit_reason = now, code
    if amount > 0:
        tenderer = account.tender.tenderer
        ledger.instruct(
            account=account, purpose=RefundPurpose.FORFEIT_TRANSFER, trigger=code, legal_source=legal,
            covered=valid, payee=(tenderer.basic_account_number, tenderer.basic_account_name,
                                  tenderer.basic_account_bank),
            from_account=account.number, due_at=deposit_refund_rules(
                account.tender.procedure_type).after_contract.after(now),
            with_interest=False,
        )
    ledger.event(
        "deposit.forfeited",
        f"trading.lot:{account.lot_id}",
        {"tender": account.tender_id, **sealed_refs(account), "reason": code, "legal_source": legal,
         "amount": amount, "guarantee_amount": account.guarantee_amount, "note": note[:500]},
    )
    ledger.flush(actor=actor)
    _propose_credit_record(account, code, legal, note)
    return account


def _propose_credit_record(account: DepositAccount, code: str, legal: str, note: str) -> None:
    """The platform saw the fact: propose a bad-conduct record for a supervisor to decide (docs/credit.md)."""
    event = (AuditEvent.objects.filter(action="deposit.forfeited", object=f"trading.lot:{account.lot_id}")
             .order_by("-seq").first())
    kind = RecordKind.REFUSED_TO_SIGN if code == ForfeitReason.WINNER_REFUSED else RecordKind.DEPOSIT_FORFEITED
    record_propose(kind=kind, organisation=account.bidder, source_ref=f"trading.depositaccount:{account.pk}",
                   facts=f"{account.tender.code} lot {account.lot.number}: deposit forfeited ({code}, {legal})"
                         + (f"; {note}" if note else ""),
                   evidence_seqs=[event.seq] if event is not None else [], at=clock.now())
