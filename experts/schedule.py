"""Periodic tasks of the expert app, merged into CELERY_BEAT_SCHEDULE by config/settings.py.

Confirmation time-outs are ScheduledStep rows run by the trading sweep; this only retries sends.
Imported while settings load: no Django imports here.
"""

BEAT_SCHEDULE = {
    "experts-sweep-notifications": {
        "task": "experts.tasks.sweep_notifications",
        "schedule": 30.0,
        "options": {"expires": 60},
    },
}
