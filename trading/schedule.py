"""Periodic tasks of the trading app, merged into CELERY_BEAT_SCHEDULE by config/settings.py.

Imported while settings load: no Django imports here.
"""

import os

BEAT_SCHEDULE = {
    "trading-sweep-due-steps": {
        "task": "trading.tasks.sweep_due_steps",
        "schedule": 5.0,
        # A sweep that waited longer than this in the queue is dropped: the next one does its work.
        "options": {"expires": 30},
    },
}

# Orphan files (trading/bids/sweeper.py; docs/operations.md, "Faults and recovery").
ORPHAN_SWEEP_SECONDS = float(os.environ.get("PTRADE_ORPHAN_SWEEP_SECONDS", "600"))

BEAT_SCHEDULE["trading-sweep-orphan-files"] = {
    "task": "trading.tasks.sweep_orphan_files",
    "schedule": ORPHAN_SWEEP_SECONDS,
    "options": {"expires": ORPHAN_SWEEP_SECONDS},
}
