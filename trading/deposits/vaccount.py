"""Virtual sub-account numbers (虚拟子账号) under the platform's collection account.

Layout: `<prefix><serial><check>`, all digits.
- prefix: the collection account's virtual-account range agreed with the bank
  (settings.DEPOSIT_VIRTUAL_ACCOUNT_PREFIX, digits; default "6230").
- serial: 12 random digits. Random, not sequential: a sequential number would tell
  a bidder roughly how many others registered before it, and the number of
  registrations is sealed until the deadline (电子招标投标办法 Art 21). Uniqueness
  is enforced by the database; a collision is drawn again.
- check: one Luhn (ISO/IEC 7812-1) digit over prefix + serial, the check digit that
  bank systems and payment forms already validate. It catches every single-digit
  typo and every adjacent transposition except 09↔90, so a mistyped number is
  refused by the bank or lands in the suspense list instead of another bidder's
  sub-account.
"""

from __future__ import annotations

import re
import secrets

SERIAL_DIGITS = 12
_DIGITS = re.compile(r"^[0-9]+$")
_SEPARATORS = re.compile(r"[\s\-]")


def luhn_check_digit(payload: str) -> str:
    """The Luhn digit that makes `payload + digit` valid."""
    if not _DIGITS.match(payload):
        raise ValueError("a Luhn payload is digits only")
    total = 0
    # Double every second digit from the right of the payload (the check digit sits right of it).
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return bool(_DIGITS.match(number)) and len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]


def normalize_account_number(value: str | None) -> str:
    """Account numbers compared as digits/letters without spaces or dashes ("6222 0000-12" == "6222000012")."""
    return _SEPARATORS.sub("", value or "").upper()


def make_virtual_account(prefix: str, serial: str | None = None) -> str:
    """A new virtual sub-account number; `serial` (12 digits) for tests, random otherwise."""
    if not _DIGITS.match(prefix or ""):
        raise ValueError("the virtual account prefix is digits only")
    if serial is None:
        serial = f"{secrets.randbelow(10 ** SERIAL_DIGITS):0{SERIAL_DIGITS}d}"
    if len(serial) != SERIAL_DIGITS or not _DIGITS.match(serial):
        raise ValueError(f"the serial is {SERIAL_DIGITS} digits")
    payload = prefix + serial
    return payload + luhn_check_digit(payload)


def is_virtual_account(number: str, prefix: str) -> bool:
    """True if `number` is well formed: the prefix, 12 digits and a valid check digit."""
    number = normalize_account_number(number)
    return (
        len(number) == len(prefix) + SERIAL_DIGITS + 1
        and number.startswith(prefix)
        and luhn_valid(number)
    )


def format_grouped(number: str) -> str:
    """"6230 1234 5678 9012 3" for display (groups of four)."""
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
