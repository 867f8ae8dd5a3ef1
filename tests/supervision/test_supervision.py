"""Live supervision: red/yellow warnings from due times, opening rooms, publishing changes to the
"supervision" stream, the dashboard consumer, page and API (supervisors only)."""

# The cast, tenders and clock are shared fixtures (tests/fixtures/); English and media root as in tests/trading:
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.urls import path
from django.utils import timezone

from bidding_ui.consumers.supervision import SupervisionConsumer
from realtime.models import StreamEvent
from supervision import live as supervision
from supervision.live import RED, YELLOW, due_level, step_level, supervision_refresh, supervision_warnings
from tests.experts.conftest import make_expert  # noqa: F401
from tests.fixtures.directory import _english, _media_root  # noqa: F401
from tests.trading.deposits.conftest import _bank_settings, make_transfer, notify, registered  # noqa: F401
from tests.trading.evaluation.conftest import fake, make_world  # noqa: F401  # noqa: F401
from trading.models import ScheduledStep
from trading.services.objections import objection_raise, objection_reply
from trading.services.scheduling import step_run_one, step_schedule
from trading.steps import Defer, step_handler

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)
GRACE = timedelta(minutes=5)

_FAIL = {"n": 0}


@step_handler("test_supervision_failing")
def _failing_step(step):
    _FAIL["n"] += 1
    raise RuntimeError("handler broke")


@step_handler("test_supervision_waiting")
def _waiting_step(step):
    from trading import clock

    return Defer(clock.now() + timedelta(hours=1), "waiting for the test condition")


# --- levels (pure) ------------------------------------------------------------------------------

def test_due_level_boundaries():
    due = timezone.now()
    window = DAY
    assert due_level(due, due + MICRO, window) == RED
    assert due_level(due, due, window) == YELLOW  # due now, not late yet
    assert due_level(due, due - window, window) == YELLOW
    assert due_level(due, due - window - MICRO, window) is None


def test_step_level_boundaries():
    now = timezone.now()

    def step(**fields):
        return ScheduledStep(kind="x", subject="s", due_at=fields.pop("due_at", now - GRACE), **fields)

    assert step_level(step(due_at=now + SECOND), now, GRACE) is None  # not due
    assert step_level(step(done_at=now), now, GRACE) is None  # done
    assert step_level(step(due_at=now - GRACE), now, GRACE) is None  # pending, within the grace
    assert step_level(step(due_at=now - GRACE - MICRO), now, GRACE) == (RED, "step_overdue")
    assert step_level(step(due_at=now - SECOND, last_error="boom", attempts=1), now, GRACE) == (YELLOW, "step_failing")
    assert step_level(step(due_at=now - GRACE - MICRO, last_error="boom", attempts=3), now, GRACE) == \
        (RED, "step_overdue")
    deferred = {"next_attempt_at": now + SECOND, "attempts": 2, "result": "waiting"}
    assert step_level(step(due_at=now - GRACE, **deferred), now, GRACE) is None
    assert step_level(step(due_at=now - GRACE - MICRO, **deferred), now, GRACE) == (YELLOW, "step_waiting")
    # deferred to a time that passed more than the grace ago: the sweep is not running it
    assert step_level(step(due_at=now - DAY, next_attempt_at=now - GRACE - MICRO, attempts=1), now, GRACE) == \
        (RED, "step_overdue")
    assert step_level(step(due_at=now - DAY, next_attempt_at=now - GRACE, attempts=1), now, GRACE) is None


# --- warnings from the database ---------------------------------------------------------------------

def _levels(now=None) -> dict[str, str]:
    return {w.key: w.level for w in supervision_warnings(now=now)}


def test_objection_reply_turns_yellow_then_red_and_clears_when_answered(published, cast, clock):
    objection = objection_raise(actor=cast.bidders[0], tender=published, text="Clause 5 favours one brand.")
    key = f"objection:{objection.pk}"
    due = objection.reply_due_at
    assert key not in _levels(due - DAY - MICRO)
    assert _levels(due - DAY)[key] == YELLOW
    assert _levels(due)[key] == YELLOW
    assert _levels(due + MICRO)[key] == RED
    clock.move_to(due + SECOND)
    warning = next(w for w in supervision_warnings() if w.key == key)
    assert warning.level == RED and warning.kind == "objection_reply" and warning.tender == published.pk
    assert warning.tender_code == published.code and warning.due_at == due
    objection_reply(actor=cast.agent, objection=objection, reply="Clause 5 is removed.")
    assert key not in _levels()


def test_yellow_window_follows_settings_and_acceleration(published, cast, clock, settings):
    objection = objection_raise(actor=cast.bidders[0], tender=published, text="Objection.")
    key = f"objection:{objection.pk}"
    settings.SUPERVISION_YELLOW_DAYS = 2
    at = objection.reply_due_at - 2 * DAY
    assert _levels(at)[key] == YELLOW and key not in _levels(at - MICRO)
    settings.SANDBOX_TIME_ACCELERATION = 2  # a "day" is 12 hours: yellow from one day before
    assert key not in _levels(at) and _levels(objection.reply_due_at - DAY)[key] == YELLOW


def test_failing_and_stuck_steps(published, clock):
    now = clock.now()
    stuck = step_schedule(kind="bid_deadline_never_swept", subject="test:stuck", due_at=now - GRACE - SECOND,
                          tender=published)
    failing = step_schedule(kind="test_supervision_failing", subject="test:failing", due_at=now - SECOND,
                            tender=published)
    step_run_one(step_id=failing.pk)
    levels = _levels()
    assert levels[f"step:{stuck.pk}"] == RED and levels[f"step:{failing.pk}"] == YELLOW
    warning = next(w for w in supervision_warnings() if w.key == f"step:{failing.pk}")
    assert warning.kind == "step_failing" and "handler broke" in warning.detail
    clock.advance(minutes=6)
    assert _levels()[f"step:{failing.pk}"] == RED


def test_deferred_step_waits_in_yellow(published, clock):
    step = step_schedule(kind="test_supervision_waiting", subject="test:waiting", due_at=clock.now(),
                         tender=published)
    clock.advance(seconds=1)
    step_run_one(step_id=step.pk)
    assert f"step:{step.pk}" not in _levels()
    clock.advance(minutes=6)
    warning = next(w for w in supervision_warnings() if w.key == f"step:{step.pk}")
    assert warning.level == YELLOW and "waiting for the test condition" in warning.detail


def test_a_broken_source_does_not_blind_the_others(published, cast, clock, monkeypatch):
    objection = objection_raise(actor=cast.bidders[0], tender=published, text="Objection.")
    clock.move_to(objection.reply_due_at + SECOND)

    def broken(now):
        raise RuntimeError("source down")

    monkeypatch.setitem(supervision._SOURCES, "broken", broken)
    assert _levels()[f"objection:{objection.pk}"] == RED


def _paid_and_withdrawn(registered, notify, clock):
    from trading.deposits.services.refunds import deposit_refunds_schedule_after_withdrawal
    from trading.models import RefundInstruction
    from trading.services.scheduling import steps_run_due

    tender, regs = registered
    for reg in regs:
        assert notify(make_transfer(reg.deposit_account)).json()["status"] == "paid"
    deposit_refunds_schedule_after_withdrawal(registration=regs[0], withdrawn_at=clock.now())
    steps_run_due()
    return tender, RefundInstruction.objects.get(account__registration=regs[0])


def test_deposit_refund_turns_yellow_then_red(registered, notify, clock):
    tender, instruction = _paid_and_withdrawn(registered, notify, clock)
    key, due = f"refund:{instruction.pk}", instruction.due_at
    assert key not in _levels(due - DAY - MICRO)
    assert _levels(due - DAY)[key] == YELLOW
    assert _levels(due + MICRO)[key] == RED
    warning = next(w for w in supervision_warnings(now=due + MICRO) if w.key == key)
    assert warning.kind == "deposit_refund" and warning.tender == tender.pk and instruction.reference in warning.detail


def test_refund_failed_at_the_bank_is_red(registered, notify, clock):
    from trading.models import DepositWarning

    _, instruction = _paid_and_withdrawn(registered, notify, clock)
    failed = make_transfer(instruction.account, str(instruction.total), kind="refund", reference=instruction.reference,
                           status="failed", number=instruction.from_account, payer=instruction.payee_account)
    assert notify(failed).json()["result"] == "refund_failed"
    warning = DepositWarning.objects.get(kind="refund_failed")
    levels = _levels()
    assert levels[f"deposit_warning:{warning.pk}"] == RED and f"refund:{instruction.pk}" not in levels


def test_publicity_objection_complaint_and_contract_due_times(make_world, fake, clock):
    from tests.trading.evaluation.helpers import concluded
    from trading.evaluation.services import award as award_services
    from trading.evaluation.services import publicity as pub
    from trading.services.scheduling import steps_run_due

    w = make_world()
    concluded(w, fake)
    publicity = pub.publicity_start(actor=w.agent, tender=w.tender)
    objection = pub.publicity_objection_raise(actor=w.bidders[3], tender=w.tender, text="C's price is too low.")
    key, due = f"publicity_objection:{objection.pk}", objection.reply_due_at
    assert key not in _levels(due - DAY - MICRO)
    assert _levels(due - DAY)[key] == YELLOW and _levels(due + MICRO)[key] == RED
    clock.advance(days=1)
    pub.publicity_objection_reply(actor=w.tenderer, objection=objection, reply="C explained its price.")
    assert key not in _levels(due + MICRO)
    objection.refresh_from_db()

    complaint = pub.complaint_file(actor=w.bidders[3], tender=w.tender, text="The reply ignores clause 4.",
                                   objection=objection)
    accept_key = f"complaint_acceptance:{complaint.pk}"
    assert _levels(complaint.accept_due_at)[accept_key] == YELLOW
    assert _levels(complaint.accept_due_at + MICRO)[accept_key] == RED
    complaint = pub.complaint_accept(actor=w.supervisor, complaint=complaint)
    decide_key = f"complaint_decision:{complaint.pk}"
    levels = _levels(complaint.decide_due_at + MICRO)
    assert accept_key not in levels and levels[decide_key] == RED
    pub.complaint_decide(actor=w.supervisor, complaint=complaint, decision="dismissed", text="Complies.")
    assert decide_key not in _levels(complaint.decide_due_at + MICRO)

    clock.move_to(publicity.ends_at + SECOND)
    steps_run_due()
    (award, *_) = award_services.award_publish(actor=w.agent, tender=w.tender)
    contract_key = f"contract:{award.pk}"
    assert contract_key not in _levels(award.contract_due_at - DAY - MICRO)
    warning = next(w for w in supervision_warnings(now=award.contract_due_at + MICRO) if w.key == contract_key)
    assert warning.level == RED and warning.kind == "contract_signing" and warning.tender == w.tender.pk


def test_expert_draws_in_progress_and_pool_exhausted(make_org, make_user, make_expert):
    from experts.models import DrawWarning, Specialty
    from experts.services.draws import draw_start
    from experts.specialties import specialties_load
    from tests.experts.conftest import World as ExpertsWorld

    if not Specialty.objects.exists():
        specialties_load()
    for _ in range(12):
        make_expert("A0201")
    for _ in range(8):
        make_expert("D0101")
    w = ExpertsWorld(make_org, make_user)
    draw = draw_start(actor=w.agent, lot=w.lot, **w.request())
    (row,) = supervision.draws_in_progress()
    assert row["draw"] == draw.pk and row["code"] == w.tender.code and row["seats"] == 5
    assert row["accepted"] == 0 and row["waiting"] == 5 and row["status"] in ("committed", "confirming")

    short = ExpertsWorld(make_org, make_user)  # line 1 asks for 9 cost experts: only 8 exist
    exhausted = draw_start(actor=short.agent, lot=short.lot, **short.request(lines=[
        {"specialty": "A0201", "count": 2}, {"specialty": "D01", "count": 9}], committee_size=11))
    warning = DrawWarning.objects.get(draw=exhausted)
    found = next(x for x in supervision_warnings() if x.key == f"draw_warning:{warning.pk}")
    assert found.level == RED and found.kind == "expert_pool_exhausted" and found.tender == short.tender.pk
    assert [d["draw"] for d in supervision.draws_in_progress()] == [draw.pk]  # the exhausted one is not drawing


# --- rooms ------------------------------------------------------------------------------------------

def test_opening_rooms_near_the_deadline(published, clock, monkeypatch):
    from trading.services import opening_hook
    from trading.services.scheduling import steps_run_due

    monkeypatch.setattr(opening_hook, "_STARTERS", [])  # the tender stays bidding_closed at the deadline
    assert published.pk not in [r["tender"] for r in supervision.opening_rooms()]  # 30 days away
    clock.move_to(published.bid_deadline - timedelta(minutes=59))
    room = next(r for r in supervision.opening_rooms() if r["tender"] == published.pk)
    assert room["status"] == "published" and room["stream"] == f"opening:tender:{published.pk}"
    assert room["phase"] is None
    clock.move_to(published.bid_deadline + SECOND)
    steps_run_due()
    room = next(r for r in supervision.opening_rooms() if r["tender"] == published.pk)
    assert room["status"] == "bidding_closed"
    clock.move_to(published.bid_deadline + DAY + SECOND)  # closed a day ago and no opening: stale
    assert published.pk not in [r["tender"] for r in supervision.opening_rooms()]


def test_an_opening_room_shows_its_phase(published, cast, clock):
    from tests.supervision.test_collusion import submit_bids
    from trading.services.scheduling import steps_run_due

    submit_bids(published, cast)
    clock.move_to(published.bid_deadline + SECOND)
    steps_run_due()  # the opening starts: sign-in
    room = next(r for r in supervision.opening_rooms() if r["tender"] == published.pk)
    assert room["status"] == "opening" and room["phase"] == "signing_in" and room["phase_ends_at"]
    clock.move_to(published.bid_deadline + 30 * DAY)  # still opening: listed whatever the deadline
    assert published.pk in [r["tender"] for r in supervision.opening_rooms()]


# --- publishing changes ---------------------------------------------------------------------------------

def _stream_events(kind: str):
    return list(StreamEvent.objects.filter(stream__key="supervision", kind=kind).order_by("event_id"))


def test_refresh_publishes_changes_only(published, cast, clock):
    objection = objection_raise(actor=cast.bidders[0], tender=published, text="Objection.")
    key = f"objection:{objection.pk}"
    assert "warnings" not in supervision_refresh()  # nothing to warn about yet
    clock.move_to(objection.reply_due_at - DAY)
    assert "warnings" in supervision_refresh()
    assert supervision_refresh() == []  # unchanged: nothing published
    clock.move_to(objection.reply_due_at + SECOND)
    assert supervision_refresh() == ["warnings"]
    first, second = _stream_events("warnings")
    assert first.payload["added"] == [key] and first.payload["counts"] == {"red": 0, "yellow": 1}
    assert second.payload["escalated"] == [key] and second.payload["counts"] == {"red": 1, "yellow": 0}
    assert second.audience == {"roles": ["supervisor"]}
    objection_reply(actor=cast.agent, objection=objection, reply="Done.")
    supervision_refresh()
    assert _stream_events("warnings")[-1].payload["removed"] == [key]


def test_beat_task_is_scheduled_and_registered(published, cast, clock):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["audit-supervision-refresh"]
    assert entry["task"] == "audit.supervision_refresh" and entry["schedule"] <= 60
    assert "audit.supervision_refresh" in app.tasks
    objection = objection_raise(actor=cast.bidders[0], tender=published, text="Objection.")
    clock.move_to(objection.reply_due_at + SECOND)
    result = app.tasks["audit.supervision_refresh"].delay().get()
    assert "warnings" in result["published"]


# --- the dashboard consumer ------------------------------------------------------------------------------

application = URLRouter([path("ws/supervision/", SupervisionConsumer.as_asgi())])


async def _connect(user):
    communicator = WebsocketCommunicator(application, "/ws/supervision/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.django_db(transaction=True)
async def test_dashboard_receives_a_live_update(published, cast, clock):
    objection = await database_sync_to_async(objection_raise)(actor=cast.bidders[0], tender=published,
                                                                text="Clause 5 favours one brand.")
    clock.move_to(objection.reply_due_at - DAY)
    communicator, connected, _ = await _connect(cast.supervisor)
    assert connected
    snapshot = await communicator.receive_json_from(timeout=30)
    assert snapshot["type"] == "snapshot"
    assert [w["level"] for w in snapshot["state"]["warnings"]] == [YELLOW]
    last_id = snapshot["last_id"]
    clock.move_to(objection.reply_due_at + SECOND)
    await database_sync_to_async(supervision_refresh)()
    message = await communicator.receive_json_from(timeout=30)
    assert message["type"] == "event" and message["kind"] == "warnings" and message["id"] == last_id + 1
    assert message["payload"]["items"][0]["key"] == f"objection:{objection.pk}"
    assert message["payload"]["items"][0]["level"] == RED and message["payload"]["counts"]["red"] == 1
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["agent", "bidder", "expert", "platform_admin", None])
async def test_dashboard_socket_is_for_supervisors_only(make_user, role):
    from django.contrib.auth.models import AnonymousUser

    user = await database_sync_to_async(make_user)(role) if role else AnonymousUser()
    communicator, connected, code = await _connect(user)
    assert not connected and code == 4403
    await communicator.disconnect()


# --- page and API ------------------------------------------------------------------------------------------

def test_dashboard_page_and_api(published, cast, clock, client, api):
    objection = objection_raise(actor=cast.bidders[0], tender=published, text="Objection.")
    clock.move_to(objection.reply_due_at + SECOND)
    client.force_login(cast.supervisor)
    response = client.get("/supervisor/")
    assert response.status_code == 200
    html = response.content.decode()
    assert published.code in html and "Red warning" in html and "supervision.js" in html
    assert 'href="/supervisor/tenders/"' in html  # the one supervision entry; its page links this dashboard
    body = api.as_user(cast.supervisor).get("/api/v1/audit/supervision").json()
    assert body["counts"]["red"] == 1 and body["warnings"][0]["key"] == f"objection:{objection.pk}"


@pytest.mark.parametrize("role", ["agent", "tenderer", "bidder", "expert", "platform_admin"])
def test_dashboard_page_and_api_refuse_other_roles(client, api, make_user, role):
    assert client.get("/supervisor/").status_code == 302
    assert api.get("/api/v1/audit/supervision").status_code == 401
    user = make_user(role)
    client.force_login(user)
    assert client.get("/supervisor/").status_code == 403
    assert api.as_user(user).get("/api/v1/audit/supervision").status_code == 403
