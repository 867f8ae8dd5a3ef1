"""Auction deposits refunded through the deposits' bank instructions (docs/auctions.md, "Deposit refunds").

Registers the refund origin "auctions.buyer" with `trading.deposits.origins` (imported by
AuctionsConfig.ready): trading core never imports auctions, so the bank's execution report of an
auction refund instruction reaches the buyer through this handler.
- `executed`: once the bank executed every instruction of a buyer's deposit (one per account the money
  came from), the buyer's deposit is marked refunded (`deposit_refund_executed`, audited with the bank's
  txn hash). A report the buyer cannot take (not refund due) is recorded, never refused: the bank's
  booking stands.
- `sealed`: the payee stays masked in the admin lists until the trade is decided (who applied to a
  trade is not public before its end).
"""

from __future__ import annotations

from auctions.models import DECIDED_STATUSES, Buyer, DepositState
from auctions.services.buyers import REFUND_ORIGIN, deposit_refund_executed
from audit.services import audit_record
from trading.deposits.origins import RefundOrigin, refund_origin_register
from trading.deposits.services.origin_refunds import origin_refunds_settled


def _buyer(origin_ref: str) -> Buyer | None:
    return Buyer.objects.select_related("trade").filter(pk=int(origin_ref)).first() if origin_ref.isdigit() \
        else None


def refund_executed(instruction, *, txn_id: str) -> None:
    """The bank executed `instruction` (an "auctions.buyer" refund): the buyer is refunded when all are."""
    buyer = _buyer(instruction.origin_ref)
    if buyer is None or not origin_refunds_settled(origin=REFUND_ORIGIN, origin_ref=instruction.origin_ref):
        return
    if buyer.deposit_state != DepositState.REFUND_DUE:
        if buyer.deposit_state != DepositState.REFUNDED:
            audit_record(actor="system", action="auction.deposit_refund_unexpected", obj=buyer,
                         data={"trade": buyer.trade_id, "instruction": instruction.reference,
                               "state": buyer.deposit_state})
        return
    deposit_refund_executed(buyer=buyer, txn_id=txn_id)


def payee_sealed(origin_ref: str) -> bool:
    buyer = _buyer(origin_ref)
    return buyer is None or buyer.trade.status not in DECIDED_STATUSES


ORIGIN = refund_origin_register(RefundOrigin(key=REFUND_ORIGIN, executed=refund_executed, sealed=payee_sealed))
