"""The one source of "now" for trading.

Every service, handler and visibility rule of the trading app asks `clock.now()`
(call it through the module, `from trading import clock; clock.now()`, so that a
test can `monkeypatch.setattr(clock, "now", ...)` to move time). The submission
deadline check uses it too: correctness never depends on when a task runs, only
on the server's time at the moment of the request.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
