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

# Worker and beat health (audit/health.py): beat's own heartbeat, run by a worker.
HEARTBEAT_SECONDS = float(os.environ.get("PTRADE_WORKER_HEARTBEAT_SECONDS", "15"))

BEAT_SCHEDULE["audit-beat-heartbeat"] = {
    "task": "audit.beat_heartbeat",
    "schedule": HEARTBEAT_SECONDS,
    "options": {"expires": HEARTBEAT_SECONDS},
}

# Witnesses (audit/witnessing.py): the latest checkpoint to any witness that has not cosigned it.
WITNESS_EVERY_SECONDS = float(os.environ.get("PTRADE_WITNESS_SWEEP_SECONDS", "60"))

BEAT_SCHEDULE["audit-witness"] = {
    "task": "audit.witness_checkpoint",
    "schedule": WITNESS_EVERY_SECONDS,
    "options": {"expires": WITNESS_EVERY_SECONDS},
}
