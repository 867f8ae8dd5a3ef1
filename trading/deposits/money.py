"""Money as `Decimal`, never float: strict parsing of the decimal strings banks send."""

from __future__ import annotations

import re
from decimal import Decimal

from trading.deposits.errors import DepositFormatError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Up to 12 integer digits (less than a trillion CNY per transfer) and at most 2 decimals. The columns
# are DecimalField(max_digits=18, decimal_places=2) (< 10^16): balances and totals add up many
# transfers, so one transfer must stay far below the column's bound (docs/deposits.md).
MAX_AMOUNT = Decimal("999999999999.99")
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")


def parse_amount(value: object, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """A positive amount in CNY from a decimal string such as "100000.00"; floats are refused."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise DepositFormatError(f"{field} must be a decimal string such as \"100000.00\" (never a number)",
                                 code="invalid_amount", field=field)
    text = value.strip()
    if not _AMOUNT.match(text):
        raise DepositFormatError(f"{field} {value!r} is not a decimal amount with at most 2 decimals "
                                 f"and at most {MAX_AMOUNT}",
                                 code="invalid_amount", field=field)
    amount = Decimal(text).quantize(CENT)
    if amount <= 0 and not (allow_zero and amount == 0):
        raise DepositFormatError(f"{field} must be positive", code="invalid_amount", field=field)
    return amount


def fmt(amount: Decimal) -> str:
    """"1234.50" — the decimal string used in exports and JSON."""
    return format(Decimal(amount).quantize(CENT), "f")
