"""Call sites into the deposits module (trading/deposits/, built concurrently).

Each function looks the deposits entry point up at call time, so that this module
works before and after the deposits code lands:

- `deposit_status_for(registration) -> str`  (selector; read-out column "deposit")
- `deposit_forfeit(*, registration, reason, source)`  (a bid revoked at opening, 实施条例 Art 35)
- `deposit_refunds_schedule_after_withdrawal(*, registration, withdrawn_at)`  (refund within 5 days)

Until an entry point exists the status reads "unknown" and the other two do nothing
but say so in their return value (the opening record shows it).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from config.errors import DomainError

logger = logging.getLogger(__name__)

_MODULES = ("trading.deposits.selectors", "trading.deposits.services", "trading.deposits")
UNKNOWN = "unknown"


def _lookup(name: str) -> Callable[..., Any] | None:
    for module_name in _MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        fn = getattr(module, name, None)
        if callable(fn):
            return fn
    return None


def deposit_status(registration) -> str:
    fn = _lookup("deposit_status_for")
    if fn is None:
        return UNKNOWN
    value = fn(registration)
    status = getattr(value, "value", None) or getattr(value, "status", None) or value
    return str(status) if status else UNKNOWN


def deposit_forfeit_for_revoked(*, registration, reason: str, source: str) -> bool:
    """Ask the deposits module to keep the deposit; its refusal (e.g. a refund already under way)
    never blocks the opening: it is logged and the record says the forfeit was not booked."""
    fn = _lookup("deposit_forfeit")
    if fn is None:
        return False
    try:
        fn(registration=registration, reason=reason, source=source)
    except DomainError as exc:
        logger.warning("deposit forfeit for registration %s refused: %s", registration.pk, exc.message)
        return False
    return True


def deposit_refund_after_withdrawal(*, registration, withdrawn_at) -> bool:
    fn = _lookup("deposit_refunds_schedule_after_withdrawal")
    if fn is None:
        return False
    fn(registration=registration, withdrawn_at=withdrawn_at)
    return True
