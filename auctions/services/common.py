"""Helpers shared by the auctions services: the row lock, the room stream, the audit object."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from auctions.models import Trade
from config.errors import DomainError
from realtime.streams import PUBLIC, stream_publish

CENT = Decimal("0.01")


def lock(trade: Trade) -> Trade:
    """The trade's row, locked to the end of the transaction: bids and phase changes are serialized."""
    return Trade.objects.select_for_update().get(pk=trade.pk)


def emit(trade: Trade, kind: str, payload: dict[str, Any]) -> None:
    """Persist an event on the trade's room stream (pushed on commit). Room events carry bidder
    numbers, never names: anyone who may watch the room may see them."""
    stream_publish(key=trade.stream_key, kind=kind, payload={"trade": str(trade.public_id), **payload},
                   audience=PUBLIC)


def money(value: Any, *, field: str, positive: bool = True) -> Decimal:
    """A money amount from input: a decimal string/number with at most 2 decimals."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter an amount in yuan, e.g. 1200000.00."), code="invalid",
                          fields={field: ["not a decimal amount"]}) from None
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) >= Decimal("1e16"):
        raise DomainError(_("Enter an amount in yuan with at most 2 decimals."), code="invalid",
                          fields={field: ["at most 2 decimals, below 10^16"]})
    if positive and amount <= 0:
        raise DomainError(_("The amount must be positive."), code="invalid", fields={field: ["must be positive"]})
    return amount.quantize(CENT)
