"""Interest on refunded deposits (银行同期存款利息, 招标投标法实施条例 Art 57).

Method: the balance-days product (积数计息法) that Chinese banks use for demand
deposits. Each amount that arrived earns interest for the actual number of days
from its value date (the day it arrived, counted) to the refund date (not
counted: 算头不算尾):

    interest = Σ(amount × days) × annual rate / basis, rounded half-up to the fen (0.01 CNY)

- rate: the same-period deposit rate, a Decimal fraction per year (0.0035 = 0.35 %),
  settings.DEPOSIT_INTEREST_RATE.
- basis: 360 (default; the People's Bank of China's convention for RMB deposits:
  daily rate = annual rate / 360, 银发〔2005〕129号) or 365, settings.DEPOSIT_DAY_COUNT_BASIS.
- Days are calendar days in the bank's time zone (UTC+08:00): an arrival at
  23:59 and a refund at 00:01 the next day earn one day.

Money is Decimal throughout; rounding happens once, on the total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from trading.deposits.money import CENT

BANK_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
BASES = (360, 365)


@dataclass(frozen=True)
class InterestLine:
    amount: Decimal
    value_date: dt.date
    days: int


@dataclass(frozen=True)
class InterestResult:
    interest: Decimal
    balance_days: Decimal  # 积数: Σ amount × days
    rate: Decimal
    basis: int
    until: dt.date
    lines: tuple[InterestLine, ...]

    def describe(self) -> str:
        return (f"{format(self.balance_days, 'f')} CNY·days × {format(self.rate, 'f')} / {self.basis} "
                f"= {format(self.interest, 'f')} CNY")


def bank_date(moment: dt.datetime | dt.date) -> dt.date:
    """The calendar day of `moment` at the bank (UTC+08:00)."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            raise ValueError("naive datetime: interest days are counted in the bank's time zone")
        return moment.astimezone(BANK_TZ).date()
    return moment


def days_between(start: dt.datetime | dt.date, end: dt.datetime | dt.date) -> int:
    """Actual days from `start` (counted) to `end` (not counted); never negative."""
    return max((bank_date(end) - bank_date(start)).days, 0)


def compute_interest(arrivals: Iterable[tuple[Decimal, dt.datetime | dt.date]], *, until: dt.datetime | dt.date,
                     rate: Decimal, basis: int) -> InterestResult:
    """Interest on `arrivals` ((amount, value date or time) pairs) up to `until`."""
    if basis not in BASES:
        raise ValueError(f"the day-count basis is 360 or 365, not {basis!r}")
    if isinstance(rate, float) or not isinstance(rate, Decimal):
        raise TypeError("the interest rate is a Decimal (0.0035 for 0.35 %), never a float")
    if rate < 0:
        raise ValueError("the interest rate cannot be negative")
    lines = []
    balance_days = Decimal(0)
    for amount, value_date in arrivals:
        if not isinstance(amount, Decimal):
            raise TypeError("amounts are Decimal")
        days = days_between(value_date, until)
        lines.append(InterestLine(amount=amount, value_date=bank_date(value_date), days=days))
        balance_days += amount * days
    interest = (balance_days * rate / Decimal(basis)).quantize(CENT, rounding=ROUND_HALF_UP)
    return InterestResult(interest=interest, balance_days=balance_days, rate=rate, basis=basis,
                          until=bank_date(until), lines=tuple(lines))
