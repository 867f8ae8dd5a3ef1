"""Scheduled steps of the expert app (trading.steps registry, swept by Celery beat)."""

from __future__ import annotations

from experts.models import Assignment
from experts.services.draws import SAMPLE_STEP, assignment_time_out, draw_sample
from experts.services.notifications import TIMEOUT_STEP
from trading import clock
from trading.steps import Defer, step_handler


def _pk(step) -> int:
    return int(step.subject.rsplit(":", 1)[1])


@step_handler(TIMEOUT_STEP)
def confirmation_timeout(step):
    """The expert did not answer in time: the seat goes to a reserve or the next drawn expert."""
    respond_by = Assignment.objects.filter(pk=_pk(step)).values_list("respond_by", flat=True).first()
    if respond_by is not None and clock.now() < respond_by:
        return Defer(respond_by, "time limit not reached")
    return assignment_time_out(assignment_id=_pk(step))


@step_handler(SAMPLE_STEP)
def draw_sample_safety_net(step):
    """Finish a committed draw whose sampling transaction never ran (e.g. the process died)."""
    draw = draw_sample(draw_id=_pk(step))
    return f"draw {draw.pk} {draw.status}"
