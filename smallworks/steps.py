"""Step handlers of the fixed-price comparison (swept by trading/services/scheduling.py)."""

from __future__ import annotations

from smallworks.services import SIGN_DUE_STEP, SIGN_WARNING_STEP, pick_sign_due, pick_sign_warning
from trading.steps import step_handler


def _pick_id(step) -> int:
    return int(step.subject.rsplit(":", 1)[1])


@step_handler(SIGN_DUE_STEP)
def sign_due(step):
    return pick_sign_due(pick_id=_pick_id(step))


@step_handler(SIGN_WARNING_STEP)
def sign_warning(step):
    return pick_sign_warning(pick_id=_pick_id(step))
