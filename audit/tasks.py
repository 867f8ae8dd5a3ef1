"""Audit Celery tasks. HackSoft's rule: the services import these tasks at module top
(audit.witnessing), each task imports its service inside its body, so no import cycle."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="audit.checkpoint_make", ignore_result=True)
def checkpoint_make() -> int:
    """Fill the Merkle node store and sign a checkpoint of the log (idempotent: a log that
    did not grow keeps its checkpoint). Returns the checkpoint's tree size."""
    from audit.checkpoints import LogInconsistent, checkpoint_create

    try:
        return checkpoint_create().tree_size
    except LogInconsistent:
        logger.exception("audit checkpoint refused: the log is inconsistent; run `manage.py audit verify`")
        raise


@shared_task(name="audit.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Sent by beat every WORKER_HEARTBEAT_SECONDS: beat, the broker and a worker all work (audit/health.py)."""
    from audit.health import BEAT, heartbeat_record

    heartbeat_record(kind=BEAT)


@shared_task(name="audit.witness_checkpoint", ignore_result=True)
def witness_checkpoint(tree_size: int | None = None) -> int:
    """Send a signed checkpoint (default: the latest) to the configured witnesses and store
    their cosignatures (audit.witnessing). Also run by beat, so a witness that was down gets
    the latest checkpoint later. Returns the number of cosignatures it has."""
    from audit.witnessing import checkpoint_witness

    return checkpoint_witness(tree_size=tree_size)
