"""Celery tasks of the trading app. Thin: the work is in trading/services/scheduling.py.

The services import these tasks at module top; a task imports its service inside its body
(so the two modules do not import each other at load time).
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="trading.tasks.sweep_due_steps", ignore_result=True)
def sweep_due_steps(limit: int = 200) -> int:
    """Beat task (every few seconds): run every due step, then arm precise tasks for the next few seconds."""
    from trading.services.scheduling import steps_enqueue_soon, steps_run_due

    ran = steps_run_due(limit=limit)
    steps_enqueue_soon()
    return len(ran)


@shared_task(name="trading.tasks.run_due_step", ignore_result=True)
def run_due_step(step_id: int) -> bool:
    """Short-countdown task for one step; a no-op if it is not yet due, already done or being run."""
    from trading.services.scheduling import step_run_one

    return step_run_one(step_id=step_id) is not None


@shared_task(name="trading.tasks.sweep_orphan_files", ignore_result=True)
def sweep_orphan_files() -> int:
    """Beat task: remove (or finish) files a fault left without their committed row (trading/bids/sweeper.py)."""
    from trading.bids.sweeper import storage_orphans_sweep

    report = storage_orphans_sweep()
    return len(report.removed) + len(report.recovered)
