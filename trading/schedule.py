"""Periodic tasks of the trading app, merged into CELERY_BEAT_SCHEDULE by config/settings.py.

Imported while settings load: no Django imports here.
"""

BEAT_SCHEDULE = {
    "trading-sweep-due-steps": {
        "task": "trading.tasks.sweep_due_steps",
        "schedule": 5.0,
        # A sweep that waited longer than this in the queue is dropped: the next one does its work.
        "options": {"expires": 30},
    },
}
