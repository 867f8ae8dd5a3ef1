"""Legal sources and platform timings of the opening (numbers of the law live in trading/rules.py).

Periods are platform choices, not statutory numbers; like legal periods they are
shortened by the sandbox room factor (trading.rules.room_acceleration, SANDBOX_ROOM_ACCELERATION).
"""

from __future__ import annotations

from datetime import timedelta

from trading.rules import room_acceleration

OPENING_AT_DEADLINE = "招标投标法 Art 34"
MIN_BIDS_FALLBACK_SOURCE = "招标投标法 Art 28; 招标投标法实施条例 Art 44"
READOUT = "招标投标法 Art 36"
OPENING_OBJECTIONS = "招标投标法实施条例 Art 44"
DECRYPTION_ONLINE = "电子招标投标办法 Art 30"
DECRYPTION_FAILURE = "电子招标投标办法 Art 31; 招标投标法实施条例 Art 35"
NO_DECRYPTION_BEFORE_DEADLINE = "电子招标投标办法 Art 28"

# Platform timings (minutes): sign-in before decryption starts, the custodian fallback,
# the objections phase before an automatic close (only when no objection is open).
SIGN_IN_MINUTES = 10
FALLBACK_MINUTES = 30
OBJECTIONS_MINUTES = 15


def minutes(n: int | float) -> timedelta:
    return max(timedelta(minutes=n) / room_acceleration(), timedelta(seconds=1))
