"""Refund instructions for deposits another app holds (a registered refund origin, trading/deposits/origins.py).

`origin_refund_instruct` makes the bank instructions that pay such a deposit back: the same
`RefundInstruction` rows as tender refunds (purpose `refund`), so they appear in the platform admin's
export, in the bank's signed export request and in the lists, are executed by the bank's refund
notification or statement debit naming their reference, get the overdue step at their due time, and can
be re-issued after a failure. They have no deposits sub-account (`account` is null) and no tender;
`origin`/`origin_ref` name the object holding the deposit, and `from_account` is that object's virtual
sub-account (the number the bank debits).

Idempotent: what the origin's earlier instructions (any status but superseded) already cover is not
instructed again, so calling it twice, or again after more money arrived, instructs only the rest.
The caller holds the row lock of its own object (one call at a time per origin_ref); the instructions
are not locked here, so the bank's execution path (instruction, then the origin's object) and this one
(the origin's object, then new instructions) never wait on each other in opposite orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from trading import clock
from trading.deposits.booking import Ledger
from trading.deposits.money import ZERO
from trading.deposits.origins import refund_origin_get
from trading.deposits.vaccount import normalize_account_number
from trading.models.deposit import RefundInstruction, RefundPurpose, RefundStatus


@dataclass(frozen=True)
class OriginPayment:
    """Money the origin holds, to be paid back to `payee_account` (the account it came from)."""

    payee_account: str
    amount: Decimal
    payee_name: str = ""
    payee_bank: str = ""


def origin_instructions(*, origin: str, origin_ref: str):
    """The origin object's instructions that count (every status but superseded), oldest first."""
    return (RefundInstruction.objects.filter(origin=origin, origin_ref=str(origin_ref))
            .exclude(status=RefundStatus.SUPERSEDED).order_by("created_at", "pk"))


def origin_refunds_settled(*, origin: str, origin_ref: str) -> bool:
    """True when the object has instructions and the bank executed every one that counts."""
    statuses = list(origin_instructions(origin=origin, origin_ref=origin_ref).values_list("status", flat=True))
    return bool(statuses) and all(s == RefundStatus.EXECUTED for s in statuses)


@transaction.atomic
def origin_refund_instruct(*, origin: str, origin_ref: str, payments: Sequence[OriginPayment], from_account: str,
                           due_at: datetime, trigger: str, legal_source: str) -> list[RefundInstruction]:
    """Instruct the bank to pay back what `payments` hold and earlier instructions do not cover yet:
    one instruction per payee, without interest, due at `due_at` (not before now). Returns the new
    instructions ([] when everything is covered)."""
    refund_origin_get(origin)  # only a registered origin: its handler must run when the bank executes it
    origin_ref = str(origin_ref)
    existing = list(origin_instructions(origin=origin, origin_ref=origin_ref))
    covered: dict[str, Decimal] = {}
    for i in existing:
        covered[i.payee_account] = covered.get(i.payee_account, ZERO) + i.principal
    held = [p for p in payments if p.amount > 0]
    remaining = sum((p.amount for p in held), ZERO) - sum(covered.values(), ZERO)
    if remaining <= 0 or not held:
        return []
    now = clock.now()
    ledger = Ledger(now=now, source="refund")
    made: list[RefundInstruction] = []
    plan: list[tuple[OriginPayment, Decimal]] = []
    for p in held:
        want = min(p.amount - covered.get(normalize_account_number(p.payee_account), ZERO), remaining)
        if want > 0:
            plan.append((p, want))
            remaining -= want
    if remaining > 0:  # a payee was corrected on a re-issue: the rest goes to the first payer
        plan.append((held[0], remaining))
    for p, amount in plan:
        made.append(ledger.instruct(
            account=None, purpose=RefundPurpose.REFUND, trigger=trigger[:30], legal_source=legal_source[:120],
            principal=amount, value_dates=(), with_interest=False,
            payee=(normalize_account_number(p.payee_account), p.payee_name[:200], p.payee_bank[:200]),
            from_account=normalize_account_number(from_account), due_at=max(due_at, now),
            origin=origin, origin_ref=origin_ref,
        ))
    ledger.flush()
    return made
