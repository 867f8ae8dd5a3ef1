"""The bid deadline and publicity-end steps: swept from the database, idempotent, safe on reruns."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.selectors import chain_verify
from trading.models import ScheduledStep, TenderStatus
from trading.services import opening_hook
from trading.services.objections import objection_raise, objection_reply
from trading.services.scheduling import step_run_one, step_schedule, steps_run_due
from trading.services.tender_status import tender_transition
from trading.steps import bid_deadline, handler_for, registered_kinds
from trading.tasks import run_due_step, sweep_due_steps


def closed_events(tender):
    return AuditEvent.objects.filter(
        action="tender.status_changed", data__tender=tender.pk, data__to="bidding_closed"
    ).count()


def test_handlers_are_registered():
    assert {"bid_deadline", "publicity_end", "objection_reply_due"} <= set(registered_kinds())
    with pytest.raises(LookupError):
        handler_for("no_such_step")


def test_nothing_happens_before_the_deadline(published, clock):
    assert sweep_due_steps() == 0
    published.refresh_from_db()
    assert published.status == TenderStatus.PUBLISHED


def test_deadline_sweep_twice_has_one_effect(published, clock):
    clock.move_to(published.bid_deadline + timedelta(seconds=1))
    assert sweep_due_steps() == 1
    assert sweep_due_steps() == 0
    published.refresh_from_db()
    assert published.status == TenderStatus.BIDDING_CLOSED and published.bidding_closed_at is not None
    step = ScheduledStep.objects.get(kind="bid_deadline", tender=published)
    assert step.done_at is not None and step.attempts == 1 and step.result.startswith("closed")
    assert closed_events(published) == 1
    event = AuditEvent.objects.get(action="tender.status_changed", data__to="bidding_closed")
    assert event.data["seal_salt"] == published.seal_salt and event.actor == "system"
    assert chain_verify().ok


def test_handler_itself_is_idempotent_when_a_step_is_rearmed(published, clock):
    clock.move_to(published.bid_deadline + timedelta(seconds=1))
    steps_run_due()
    step = ScheduledStep.objects.get(kind="bid_deadline", tender=published)
    assert bid_deadline(step).startswith("skipped")  # run again by hand: no second transition
    step_schedule(
        kind="bid_deadline", subject=step.subject, due_at=step.due_at - timedelta(seconds=1), tender=published
    )  # re-armed as if by mistake
    steps_run_due()
    assert closed_events(published) == 1


def test_worker_dying_mid_step_rolls_back_and_the_rerun_completes(published, clock):
    calls = []

    def crashing_starter(*, tender):
        calls.append(tender.pk)
        raise RuntimeError("worker lost")

    opening_hook.register_opening_starter(crashing_starter)
    try:
        clock.move_to(published.bid_deadline + timedelta(seconds=1))
        steps_run_due()
    finally:
        opening_hook.unregister_opening_starter(crashing_starter)
    published.refresh_from_db()
    step = ScheduledStep.objects.get(kind="bid_deadline", tender=published)
    assert published.status == TenderStatus.PUBLISHED  # the transition rolled back with the step
    assert closed_events(published) == 0
    assert step.done_at is None and step.attempts == 1 and "worker lost" in step.last_error
    assert step.next_attempt_at > clock.now()
    steps_run_due()  # back-off not over: nothing
    assert ScheduledStep.objects.get(pk=step.pk).attempts == 1
    clock.move_to(step.next_attempt_at + timedelta(seconds=1))
    steps_run_due()
    published.refresh_from_db()
    assert published.status == TenderStatus.BIDDING_CLOSED and closed_events(published) == 1
    assert calls == [published.pk]
    assert chain_verify().ok


def test_opening_hook_is_called_once(published, clock):
    seen = []

    def starter(*, tender):
        seen.append((tender.pk, tender.status))

    opening_hook.register_opening_starter(starter)
    try:
        clock.move_to(published.bid_deadline + timedelta(seconds=1))
        sweep_due_steps()
        sweep_due_steps()
    finally:
        opening_hook.unregister_opening_starter(starter)
    assert seen == [(published.pk, TenderStatus.BIDDING_CLOSED)]
    assert "1 hook" in ScheduledStep.objects.get(kind="bid_deadline").result


def test_suspended_tender_defers_the_deadline(published, cast, clock):
    objection = objection_raise(actor=cast.bidders[0], tender=published, text="Unfair clause.")
    clock.move_to(published.bid_deadline + timedelta(seconds=1))
    steps_run_due()
    published.refresh_from_db()
    step = ScheduledStep.objects.get(kind="bid_deadline")
    assert published.status == TenderStatus.SUSPENDED and step.done_at is None
    assert "suspended" in step.result
    objection_reply(actor=cast.agent, objection=objection, reply="Rejected.")
    clock.move_to(step.next_attempt_at + timedelta(seconds=1))
    steps_run_due()
    published.refresh_from_db()
    assert published.status == TenderStatus.BIDDING_CLOSED


def test_cancelled_tender_step_is_skipped(published, cast, clock):
    tender_transition(actor=cast.agent, tender=published, to="cancelled")
    clock.move_to(published.bid_deadline + timedelta(seconds=1))
    steps_run_due()
    assert ScheduledStep.objects.get(kind="bid_deadline").result == "skipped: tender is cancelled"
    assert closed_events(published) == 0


def test_precise_task_only_runs_a_due_step(published, clock):
    step = ScheduledStep.objects.get(kind="bid_deadline")
    assert run_due_step(step.pk) is False  # not due yet: no-op
    clock.move_to(published.bid_deadline)
    assert run_due_step(step.pk) is True
    assert run_due_step(step.pk) is False  # done: no-op
    assert closed_events(published) == 1


def test_scheduling_a_near_step_enqueues_a_precise_task(
    published, clock, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(run_due_step, "apply_async", lambda args, countdown: sent.append((args, countdown)))
    with django_capture_on_commit_callbacks(execute=True):
        step_schedule(kind="bid_deadline", subject="trading.tender:999", due_at=clock.now() + timedelta(seconds=20))
        step_schedule(kind="bid_deadline", subject="trading.tender:998", due_at=clock.now() + timedelta(days=2))
    assert len(sent) == 1 and 19 < sent[0][1] <= 21


def test_unknown_kind_backs_off_without_blocking_others(published, clock):
    step_schedule(kind="not_yet_implemented", subject="x:1", due_at=clock.now())
    clock.move_to(published.bid_deadline + timedelta(seconds=1))
    ran = steps_run_due()
    assert {s.kind for s in ran} == {"not_yet_implemented", "bid_deadline"}
    broken = ScheduledStep.objects.get(kind="not_yet_implemented")
    assert broken.done_at is None and "no handler" in broken.last_error


def test_publicity_end_step(published, cast, clock):
    from trading.services.notices import result_notice_publish

    for to in (TenderStatus.BIDDING_CLOSED, TenderStatus.OPENING, TenderStatus.EVALUATING):
        tender_transition(actor="system", tender=published, to=to)
    result_notice_publish(actor=cast.agent, tender=published, kind="candidate_publicity", title="C", body="B")
    published.refresh_from_db()
    clock.move_to(published.publicity_ends_at + timedelta(seconds=1))
    sweep_due_steps()
    sweep_due_steps()
    published.refresh_from_db()
    assert published.publicity_ended_at is not None
    assert AuditEvent.objects.filter(action="tender.publicity_ended").count() == 1
    result_notice_publish(actor=cast.agent, tender=published, kind="award_result", title="Award", body="Bidder 1")
    published.refresh_from_db()
    assert published.status == TenderStatus.AWARDED
    assert chain_verify().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_concurrently(make_draft, cast, clock):
    from trading.services.tenders import tender_publish

    tenders = []
    for _ in range(12):
        t = make_draft()
        tender_publish(actor=cast.agent, tender=t)
        tenders.append(t)
    clock.move_to(max(t.bid_deadline for t in tenders) + timedelta(seconds=1))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(len(steps_run_due()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and sum(results) == 12
    for t in tenders:
        t.refresh_from_db()
        assert t.status == TenderStatus.BIDDING_CLOSED and closed_events(t) == 1
    assert set(ScheduledStep.objects.values_list("attempts", flat=True)) == {1}
    assert chain_verify().ok


def test_step_run_one_returns_none_when_nothing_due(db):
    assert step_run_one() is None
