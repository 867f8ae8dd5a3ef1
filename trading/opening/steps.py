"""Scheduled steps of the opening and its start at the bid deadline.

- The opening starter is registered with trading.services.opening_hook: the bid_deadline
  step calls it right after closing bidding, in the same transaction.
- "opening_phase_end" (subject "trading.tender:<id>") runs when the current phase's
  time is up; it is re-armed for every phase with a time limit. The handler returns
  `Defer(next end)` while the opening goes on, so the same row serves every phase.
"""

from __future__ import annotations

from datetime import datetime

from trading.models import Tender
from trading.opening import services
from trading.services.opening_hook import register_opening_starter
from trading.steps import Defer, step_handler


@register_opening_starter
def start_opening(*, tender: Tender) -> None:
    services.opening_start(tender=tender)


@step_handler(services.PHASE_END)
def opening_phase_end(step):
    tender = Tender.objects.get(pk=step.tender_id)
    result = services.opening_phase_end(tender=tender)
    if isinstance(result, datetime):
        return Defer(result, "opening goes on")
    return f"opening: {result}"
