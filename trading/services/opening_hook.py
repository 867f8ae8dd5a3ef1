"""Hook: what happens when the bid deadline fires ("start the opening").

The `bid_deadline` step handler (trading/steps.py) closes registration and
submissions and then calls `opening_start(tender=...)` in the same transaction.
The opening (trading/opening/steps.py) registers its starter here:

    from trading.services.opening_hook import register_opening_starter

    @register_opening_starter
    def start_opening(*, tender):
        ...  # idempotent: check the tender's status first

Starters run in registration order inside the handler's transaction, so an
exception rolls the whole deadline step back and the sweep retries it; every
starter must therefore be idempotent. With no starter registered the tender
stays `bidding_closed` (nothing is faked).
"""

from __future__ import annotations

from collections.abc import Callable

OpeningStarter = Callable[..., None]
_STARTERS: list[OpeningStarter] = []


def register_opening_starter(fn: OpeningStarter) -> OpeningStarter:
    if fn not in _STARTERS:
        _STARTERS.append(fn)
    return fn


def unregister_opening_starter(fn: OpeningStarter) -> None:
    if fn in _STARTERS:
        _STARTERS.remove(fn)


def opening_start(*, tender) -> list[str]:
    """Run every registered starter for `tender`; returns their names (for the audit event)."""
    names = []
    for starter in list(_STARTERS):
        starter(tender=tender)
        names.append(f"{starter.__module__}.{starter.__qualname__}")
    return names
