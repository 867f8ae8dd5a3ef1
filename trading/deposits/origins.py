"""Refund origins: deposits held by another app that the deposits' bank instructions pay back.

The deposits ledger (`DepositAccount`) belongs to a tender registration. Other apps hold deposits on
their own virtual sub-accounts (auctions: `auctions.Buyer`), but their refunds must reach the bank
through the same refund instructions, exports and execution reports as tender refunds. Trading core
may not import those apps (docs/architecture.md, "Layers"), so they register here, from their
AppConfig.ready, under a key that names the kind of object holding the deposit:

    from trading.deposits.origins import RefundOrigin, refund_origin_register

    refund_origin_register(RefundOrigin(
        key="auctions.buyer",
        executed=on_executed,  # (instruction, *, txn_id) -> None, once the bank reports it paid
        sealed=is_sealed,      # (origin_ref) -> bool: payee masked in the admin lists while True
    ))

An instruction of an origin has `origin` = the key and `origin_ref` = the id of the holding object
(`RefundInstruction.origin`, `origin_ref`; "" for the deposits' own instructions). It is created by
`trading.deposits.services.origin_refunds.origin_refund_instruct`. When the bank reports it executed
(webhook or statement line, `trading.deposits.booking`), the booking is written first, then the
origin's `executed` handler runs in the same transaction. A handler must not refuse: the bank's report
is a fact; it records what it cannot apply rather than raising.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KEY_MAX_LENGTH = 40


@dataclass(frozen=True)
class RefundOrigin:
    key: str
    executed: Callable[..., None]
    sealed: Callable[[str], bool] | None = None


_ORIGINS: dict[str, RefundOrigin] = {}


def refund_origin_register(origin: RefundOrigin) -> RefundOrigin:
    """Register an origin (from an AppConfig.ready; registering the same key twice is refused)."""
    if not origin.key or len(origin.key) > KEY_MAX_LENGTH:
        raise ValueError(f"refund origin key must be 1 to {KEY_MAX_LENGTH} characters")
    known = _ORIGINS.get(origin.key)
    if known is not None and known != origin:
        raise RuntimeError(f"refund origin {origin.key!r} registered twice")
    _ORIGINS[origin.key] = origin
    return origin


def refund_origin_get(key: str) -> RefundOrigin:
    try:
        return _ORIGINS[key]
    except KeyError:
        raise LookupError(f"no refund origin {key!r} is registered") from None


def refund_origin_sealed(instruction: Any) -> bool:
    """True while the origin says the instruction's payee must not be shown (the admin lists)."""
    origin = _ORIGINS.get(instruction.origin or "")
    return bool(origin is not None and origin.sealed is not None and origin.sealed(instruction.origin_ref))


def registered_origins() -> list[str]:
    return sorted(_ORIGINS)
