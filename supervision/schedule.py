"""Periodic supervision task, merged into CELERY_BEAT_SCHEDULE by config/settings.py.

Imported while settings load: no Django imports here. The entry and task names keep their
`audit-`/`audit.` prefixes from when this lived in the audit app: the database beat scheduler
(django_celery_beat) stores entries by name, so renaming them would leave a stale entry behind.
"""

import os

# Live supervision: recompute rooms, draws and red/yellow warnings, publish what changed to the
# "supervision" stream, and arm collusion checks of tenders whose opening is over
# (supervision/tasks.py).
SUPERVISION_REFRESH_SECONDS = float(os.environ.get("PTRADE_SUPERVISION_REFRESH_SECONDS", "30"))

BEAT_SCHEDULE = {
    "audit-supervision-refresh": {
        "task": "audit.supervision_refresh",
        "schedule": SUPERVISION_REFRESH_SECONDS,
        "options": {"expires": SUPERVISION_REFRESH_SECONDS},
    },
}
