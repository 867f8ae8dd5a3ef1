"""Celery tasks of the auctions app (thin: the work is in auctions/services)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="auctions.tasks.sweep", ignore_result=True)
def sweep() -> int:
    """Beat task (every second): advance every trade whose start, listing end or countdown is due."""
    from auctions.services.bidding import trades_advance_due

    return trades_advance_due()
