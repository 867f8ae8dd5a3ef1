"""Amendments and clarifications: the 15-day rule proposes and enforces a new deadline; result notices."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from audit.selectors import chain_verify
from config.errors import RuleViolation, StateConflict
from trading.models import Notice, ScheduledStep, TenderStatus
from trading.services.notices import amendment_proposal, amendment_publish, result_notice_publish
from trading.services.tender_status import tender_transition

DAY = timedelta(days=1)


def test_amendment_with_enough_time_keeps_the_deadline(published, cast):
    deadline = published.bid_deadline  # 30 days away
    proposal = amendment_proposal(tender=published, affects_preparation=True)
    assert not proposal.required and proposal.proposed_deadline is None
    notice = amendment_publish(
        actor=cast.agent, tender=published, title="Amendment 1", body="Section 3 changed.", affects_preparation=True
    )
    published.refresh_from_db()
    assert notice.version == 2 and notice.kind == "amendment" and published.bid_deadline == deadline
    assert AuditEvent.objects.filter(action="notice.published", data__kind="amendment").count() == 1


def test_late_amendment_without_new_deadline_refused_with_proposal(published, cast, clock):
    clock.move_to(published.bid_deadline - 10 * DAY)
    proposal = amendment_proposal(tender=published, affects_preparation=True)
    assert proposal.required
    assert proposal.earliest_deadline >= clock.now() + 15 * DAY
    assert proposal.earliest_deadline - (clock.now() + 15 * DAY) < timedelta(seconds=1)
    # the proposal is a round hour with at least 10 minutes of margin for the agent
    margin = proposal.proposed_deadline - proposal.earliest_deadline
    assert timedelta(minutes=10) <= margin <= timedelta(minutes=71)
    assert proposal.proposed_deadline.minute == 0 and proposal.proposed_deadline.second == 0
    with pytest.raises(RuleViolation) as exc:
        amendment_publish(actor=cast.agent, tender=published, title="A", body="B", affects_preparation=True)
    assert exc.value.code == "deadline_extension_required"
    assert "招标投标法 Art 23" in exc.value.message and "new_deadline" in exc.value.fields
    assert Notice.objects.filter(tender=published).count() == 1


def test_late_amendment_with_too_early_deadline_refused(published, cast, clock):
    clock.move_to(published.bid_deadline - 10 * DAY)
    with pytest.raises(RuleViolation):
        amendment_publish(
            actor=cast.agent,
            tender=published,
            title="A",
            body="B",
            affects_preparation=True,
            new_deadline=clock.now() + 14 * DAY,
        )


def test_late_amendment_with_proposed_deadline_moves_everything(published, cast, clock):
    clock.move_to(published.bid_deadline - 10 * DAY)
    old = published.bid_deadline
    proposal = amendment_proposal(tender=published, affects_preparation=True)
    clock.advance(minutes=9)  # the agent takes a while to publish: the proposal is still valid
    notice = amendment_publish(
        actor=cast.agent,
        tender=published,
        title="A",
        body="B",
        affects_preparation=True,
        new_deadline=proposal.proposed_deadline,
    )
    published.refresh_from_db()
    assert published.bid_deadline == proposal.proposed_deadline == notice.new_deadline
    assert published.documents_available_until == published.bid_deadline  # followed the deadline
    step = ScheduledStep.objects.get(kind="bid_deadline", tender=published)
    assert step.due_at == published.bid_deadline
    moved = AuditEvent.objects.get(action="tender.deadline_moved")
    assert moved.data["to"] > moved.data["from"] and old < published.bid_deadline
    assert chain_verify().ok


def test_late_clarification_not_affecting_preparation_needs_no_move(published, cast, clock):
    clock.move_to(published.bid_deadline - 3 * DAY)
    notice = amendment_publish(
        actor=cast.agent,
        tender=published,
        kind="clarification",
        title="Typo",
        body="Page 4: read 'asphalt'.",
        affects_preparation=False,
    )
    assert notice.kind == "clarification"


def test_deadline_can_only_be_postponed(published, cast):
    with pytest.raises(RuleViolation):
        amendment_publish(
            actor=cast.agent,
            tender=published,
            title="A",
            body="B",
            affects_preparation=False,
            new_deadline=published.bid_deadline - DAY,
        )


def test_amendment_after_deadline_refused(published, cast, clock):
    clock.move_to(published.bid_deadline + timedelta(seconds=1))
    with pytest.raises(StateConflict):
        amendment_publish(actor=cast.agent, tender=published, title="A", body="B", affects_preparation=False)


def test_result_notices_drive_the_status(published, cast, clock):
    for to in (TenderStatus.BIDDING_CLOSED, TenderStatus.OPENING, TenderStatus.EVALUATING):
        tender_transition(actor="system", tender=published, to=to)
    with pytest.raises(StateConflict):
        result_notice_publish(actor=cast.agent, tender=published, kind="award_result", title="A", body="B")
    result_notice_publish(
        actor=cast.agent, tender=published, kind="candidate_publicity", title="Candidates", body="1. Bidder 1 Ltd"
    )
    published.refresh_from_db()
    assert published.status == TenderStatus.PUBLICITY
    assert published.publicity_ends_at - clock.now() <= 3 * DAY
    with pytest.raises(RuleViolation) as exc:
        result_notice_publish(actor=cast.agent, tender=published, kind="award_result", title="A", body="B")
    assert "招标投标法实施条例 Art 54" in exc.value.message
    assert ScheduledStep.objects.filter(kind="publicity_end", tender=published).exists()


def test_termination_and_failure(make_draft, published, cast):
    result_notice_publish(
        actor=cast.agent, tender=published, kind="termination", title="Terminated", body="The project was cancelled."
    )
    published.refresh_from_db()
    assert published.status == TenderStatus.CANCELLED
    draft = make_draft()
    with pytest.raises(StateConflict):
        result_notice_publish(actor=cast.agent, tender=draft, kind="termination", title="T", body="B")
    with pytest.raises(StateConflict):
        result_notice_publish(actor=cast.agent, tender=draft, kind="failure", title="T", body="B")
