"""Periodic tasks of the auctions app, merged into CELERY_BEAT_SCHEDULE by config/settings.py.

Imported while settings load: no Django imports here.
"""

import os

AUCTION_SWEEP_SECONDS = float(os.environ.get("PTRADE_AUCTION_SWEEP_SECONDS", "1"))

BEAT_SCHEDULE = {
    "auctions-sweep": {
        "task": "auctions.tasks.sweep",
        "schedule": AUCTION_SWEEP_SECONDS,
        "options": {"expires": 10},
    },
}
