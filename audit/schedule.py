"""Periodic audit tasks, merged into CELERY_BEAT_SCHEDULE by config/settings.py.

Imported while settings load: no Django imports here.
"""

import os

CHECKPOINT_EVERY_SECONDS = float(os.environ.get("PTRADE_AUDIT_CHECKPOINT_SECONDS", "300"))

BEAT_SCHEDULE = {
    "audit-checkpoint": {
        "task": "audit.checkpoint_make",
        "schedule": CHECKPOINT_EVERY_SECONDS,
        # A run that waited longer than its period is superseded by the next one.
        "options": {"expires": CHECKPOINT_EVERY_SECONDS},
    },
}
