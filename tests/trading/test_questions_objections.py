"""Questions and answers; objections with the 10-day cut-off, 3-day reply, suspension and overdue."""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from audit.models import AuditEvent
from audit.sealed import stored_opened
from audit.selectors import chain_verify
from config.errors import NotPermitted, RuleViolation, StateConflict
from trading.models import ObjectionStatus, ScheduledStep, TenderStatus
from trading.selectors import objections_overdue
from trading.services.objections import objection_raise, objection_reply
from trading.services.questions import question_answer, question_ask
from trading.services.scheduling import steps_run_due

DAY = timedelta(days=1)


def test_question_and_published_answer(published, cast):
    q = question_ask(actor=cast.bidders[0], tender=published, text="Is asphalt grade AC-13 acceptable?")
    assert not q.published
    assert not AuditEvent.objects.filter(action="question.asked").exists()  # sealed until the deadline
    [event] = [SimpleNamespace(**e) for e in stored_opened(published.pk, "question.asked")]
    assert event.actor == "system" and "asker_hash" in event.data and cast.bidder_orgs[0].name not in str(event.data)
    question_answer(actor=cast.agent, question=q, answer="Yes.")
    q.refresh_from_db()
    assert q.published and q.answer == "Yes." and q.answered_by == cast.agent
    with pytest.raises(StateConflict):
        question_answer(actor=cast.agent, question=q, answer="Changed my mind.")
    assert AuditEvent.objects.get(action="question.answered").actor == str(cast.agent.pk)


def test_only_bidders_ask_and_only_the_agent_answers(published, cast):
    with pytest.raises(NotPermitted):
        question_ask(actor=cast.public_user, tender=published, text="?")
    q = question_ask(actor=cast.bidders[0], tender=published, text="Question?")
    for user in (cast.bidders[1], cast.tenderer, cast.supervisor):
        with pytest.raises(NotPermitted):
            question_answer(actor=user, question=q, answer="No.")


def test_empty_question_refused(published, cast):
    with pytest.raises(Exception, match="required"):
        question_ask(actor=cast.bidders[0], tender=published, text="   ")


def test_question_after_deadline_refused(published, cast, clock):
    clock.move_to(published.bid_deadline)
    with pytest.raises(RuleViolation):
        question_ask(actor=cast.bidders[0], tender=published, text="Too late?")


def test_objection_until_10_days_before_deadline(published, cast, clock):
    clock.move_to(published.bid_deadline - 10 * DAY - timedelta(seconds=1))
    objection = objection_raise(actor=cast.bidders[0], tender=published, text="Clause 5 favours one brand.")
    assert objection.status == ObjectionStatus.OPEN
    assert objection.reply_due_at == objection.raised_at + 3 * DAY


def test_objection_later_than_10_days_refused(published, cast, clock):
    clock.move_to(published.bid_deadline - 10 * DAY + timedelta(seconds=1))
    with pytest.raises(RuleViolation) as exc:
        objection_raise(actor=cast.bidders[0], tender=published, text="Too late.")
    assert exc.value.code == "objection_too_late" and "招标投标法实施条例 Art 22" in exc.value.message


def test_objection_suspends_and_reply_resumes(published, cast):
    o1 = objection_raise(actor=cast.bidders[0], tender=published, text="One.")
    o2 = objection_raise(actor=cast.bidders[1], tender=published, text="Two.")
    published.refresh_from_db()
    assert published.status == TenderStatus.SUSPENDED
    objection_reply(actor=cast.tenderer, objection=o1, reply="Clause 5 is amended.")
    published.refresh_from_db()
    assert published.status == TenderStatus.SUSPENDED  # o2 still open
    objection_reply(actor=cast.agent, objection=o2, reply="Rejected: reasons ...")
    published.refresh_from_db()
    assert published.status == TenderStatus.PUBLISHED
    with pytest.raises(StateConflict):
        objection_reply(actor=cast.agent, objection=o2, reply="again")
    assert chain_verify().ok


def test_bidders_and_supervisors_do_not_reply(published, cast):
    o = objection_raise(actor=cast.bidders[0], tender=published, text="One.")
    for user in (cast.bidders[1], cast.supervisor):
        with pytest.raises(NotPermitted):
            objection_reply(actor=user, objection=o, reply="x")


def test_government_procurement_reply_in_7_working_days(make_draft, cast, clock):
    from trading.services.tenders import tender_publish

    tender = make_draft(procedure_type="government_procurement")
    tender_publish(actor=cast.agent, tender=tender)
    o = objection_raise(actor=cast.bidders[0], tender=tender, text="质疑")
    assert 9 * DAY <= o.reply_due_at - o.raised_at <= 11 * DAY  # 7 working days = 9 to 11 calendar days


def test_overdue_objection_shows_and_is_recorded_once(published, cast, clock):
    o = objection_raise(actor=cast.bidders[0], tender=published, text="One.")
    assert list(objections_overdue()) == []
    clock.move_to(o.reply_due_at + timedelta(seconds=1))
    assert list(objections_overdue()) == [o]
    steps_run_due()
    steps_run_due()
    assert AuditEvent.objects.filter(action="objection.reply_overdue").count() == 1
    assert ScheduledStep.objects.get(kind="objection_reply_due").done_at is not None
    objection_reply(actor=cast.agent, objection=o, reply="Late reply.")
    assert list(objections_overdue()) == []
    assert AuditEvent.objects.get(action="objection.replied").data["late"] is True


def test_replied_objection_records_no_overdue(published, cast, clock):
    o = objection_raise(actor=cast.bidders[0], tender=published, text="One.")
    objection_reply(actor=cast.agent, objection=o, reply="Answered in time.")
    clock.move_to(o.reply_due_at + timedelta(seconds=1))
    steps_run_due()
    assert not AuditEvent.objects.filter(action="objection.reply_overdue").exists()
