"""Rating the experts of a concluded evaluation (专家动态考核, docs/credit.md "Expert ratings").

The tender's agent and a supervisor each rate every member of a concluded session once, 1 (poor)
to 5; credit.services.expert_rate records it and suspends the expert from the pool on a poor
supervisor rating or repeated poor ratings (the draw's eligibility honours the suspension)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from config.errors import StateConflict
from credit.models import ExpertRating
from credit.services import expert_rate
from trading import clock
from trading.evaluation.models import CommitteeMember, SessionStatus


@transaction.atomic
def member_rate(*, actor, member: CommitteeMember, score: int, comment: str = "") -> ExpertRating:
    session = member.session
    authorize(actor, "evaluation.rate_member", session)
    if session.status != SessionStatus.CONCLUDED:
        raise StateConflict(_("Experts are rated once the evaluation report is final."), code="not_concluded")
    return expert_rate(actor=actor, expert_id=member.expert_id, score=score, comment=comment, at=clock.now(),
                       subject_ref=f"evaluation.evaluationsession:{session.pk}")
