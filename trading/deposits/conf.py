"""Deposit settings, read at call time (so tests can use override_settings). docs/deposits.md lists them.

Each has a default here; config/settings.py sets one from the environment variable of
the same name when that is set (docs/configuration.md).
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_INTEREST_RATE = Decimal("0.0035")  # 0.35 % a year: the PBoC benchmark demand-deposit rate
DEFAULT_DAY_COUNT_BASIS = 360
DEFAULT_VIRTUAL_ACCOUNT_PREFIX = "6230"
DEFAULT_GUARANTEE_VALIDITY_DAYS = 90
_DERIVATION_LABEL = b"ptrade deposits bank webhook v1"


def interest_rate() -> Decimal:
    """DEPOSIT_INTEREST_RATE: the same-period deposit rate, a yearly fraction (Decimal or string, never float)."""
    value = getattr(settings, "DEPOSIT_INTEREST_RATE", DEFAULT_INTEREST_RATE)
    if isinstance(value, float):
        raise ImproperlyConfigured("DEPOSIT_INTEREST_RATE must be a Decimal or a string such as '0.0035', not a float")
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise ImproperlyConfigured(f"DEPOSIT_INTEREST_RATE {value!r} is not a decimal number") from None
    if rate < 0 or rate >= 1:
        raise ImproperlyConfigured("DEPOSIT_INTEREST_RATE is a yearly fraction between 0 and 1 (0.0035 = 0.35 %)")
    return rate


def day_count_basis() -> int:
    """DEPOSIT_DAY_COUNT_BASIS: 360 (PBoC convention for RMB deposits) or 365."""
    basis = int(getattr(settings, "DEPOSIT_DAY_COUNT_BASIS", DEFAULT_DAY_COUNT_BASIS))
    if basis not in (360, 365):
        raise ImproperlyConfigured("DEPOSIT_DAY_COUNT_BASIS must be 360 or 365")
    return basis


def webhook_secrets() -> list[bytes]:
    """BANK_WEBHOOK_SECRET: one secret or a list (rotation).

    Unset: in production nothing is accepted; elsewhere (local runs, demos, tests) a secret
    derived from SECRET_KEY is used, HMAC-SHA256(SECRET_KEY, "ptrade deposits bank webhook v1")
    in hex, which `manage.py deposits simulate-bank` uses too."""
    value = getattr(settings, "BANK_WEBHOOK_SECRET", None)
    if value:
        values = [value] if isinstance(value, (str, bytes)) else list(value)
        return [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values if v]
    if getattr(settings, "PRODUCTION", False):
        return []
    return [derived_local_secret()]


def derived_local_secret() -> bytes:
    return hmac.new(str(settings.SECRET_KEY).encode("utf-8"), _DERIVATION_LABEL, hashlib.sha256).hexdigest().encode()


def webhook_tolerance() -> int:
    """BANK_WEBHOOK_TOLERANCE_SECONDS: how far a message's timestamp may be from the server's clock (300)."""
    return int(getattr(settings, "BANK_WEBHOOK_TOLERANCE_SECONDS", 300))


def virtual_account_prefix() -> str:
    prefix = str(getattr(settings, "DEPOSIT_VIRTUAL_ACCOUNT_PREFIX", DEFAULT_VIRTUAL_ACCOUNT_PREFIX))
    if not prefix.isdigit() or not 1 <= len(prefix) <= 8:
        raise ImproperlyConfigured("DEPOSIT_VIRTUAL_ACCOUNT_PREFIX is 1–8 digits")
    return prefix


def guarantee_validity_days() -> int:
    """DEPOSIT_GUARANTEE_VALIDITY_DAYS: a guarantee letter must stay valid this many days after the bid
    deadline (the bid validity period, 招标投标法实施条例 Art 26); default 90."""
    return int(getattr(settings, "DEPOSIT_GUARANTEE_VALIDITY_DAYS", DEFAULT_GUARANTEE_VALIDITY_DAYS))
