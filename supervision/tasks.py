"""Beat task of the live supervision dashboard (schedule in supervision/schedule.py).

The task keeps its name `audit.supervision_refresh` from when it lived in the audit app (the
database beat scheduler stores entries by task name)."""

from __future__ import annotations

import logging

from celery import shared_task

from supervision.collusion import collusion_schedule_due
from supervision.live import supervision_refresh as refresh

logger = logging.getLogger(__name__)


@shared_task(name="audit.supervision_refresh", ignore_result=True)
def supervision_refresh() -> dict:
    """Publish changed rooms, draws and warnings to the "supervision" stream, and arm the
    collusion check of every tender whose opening is over. Idempotent; a run that waited longer
    than its period expires (the next one does the same work)."""
    published = refresh()
    armed = collusion_schedule_due()
    if published or armed:
        logger.info("supervision: published %s, armed %d collusion check(s)", published or "nothing", armed)
    return {"published": published, "collusion_checks_armed": armed}
