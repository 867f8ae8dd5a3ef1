"""Drawing, confirmations and every redraw path; replay; reveal and seed reveal."""

import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from audit.selectors import chain_verify
from config.errors import StateConflict
from experts.models import (
    AssignmentStatus,
    DrawnAs,
    DrawStatus,
    DrawWarning,
    ExpertStatus,
    PanelRecord,
    WarningKind,
)
from experts.replay import draw_replay
from experts.services.draws import (
    assignment_leave,
    assignment_respond,
    draw_cancel,
    draw_request,
    draw_reveal_seed,
    draw_start,
    panel_reveal,
)
from experts.services.pool import expert_leave_add, expert_set_status
from trading import clock as trading_clock
from trading.services.scheduling import steps_run_due

pytestmark = pytest.mark.django_db
S = AssignmentStatus


def _notified(draw, line=None):
    qs = draw.assignments.filter(status=S.NOTIFIED).order_by("seat")
    return list(qs.filter(line__index=line) if line is not None else qs)


def _accept_all(draw):
    for a in _notified(draw):
        assignment_respond(actor="system", assignment=a, accept=True, via="test")
    draw.refresh_from_db()


def _replay_ok(draw):
    result = draw_replay(draw)
    assert result.ok, result.problems
    return result


def test_initial_draw_members_reserves_and_calls(world, pool, draw_now):
    draw = draw_now()
    rows = list(draw.assignments.order_by("seq"))
    members = [r for r in rows if r.drawn_as == DrawnAs.MEMBER]
    assert sorted(r.seat for r in members) == [1, 2, 3, 4, 5]
    assert all(r.status == S.NOTIFIED and r.respond_by > r.notified_at for r in members)
    assert [r.status for r in rows if r.drawn_as == DrawnAs.RESERVE] == [S.RESERVE, S.RESERVE]
    assert {r.line.index for r in members if r.seat <= 3} == {0}
    events = [e.action for e in AuditEvent.objects.filter(object=f"experts.draw:{draw.pk}")]
    assert events == ["expert_draw.committed", "expert_draw.drawn"]
    # the entropy is the hash of the commit event: the chain head right after it
    commit = AuditEvent.objects.get(seq=draw.commit_seq)
    assert draw.entropy == commit.hash
    from trading.models import ScheduledStep

    assert ScheduledStep.objects.filter(kind="expert_confirmation_timeout").count() == 5
    _replay_ok(draw)
    assert chain_verify().ok


def test_all_accept_completes_the_panel(world, pool, draw_now):
    draw = draw_now()
    _accept_all(draw)
    assert draw.status == DrawStatus.COMPLETE and draw.completed_at
    assert PanelRecord.objects.filter(draw=draw, cancelled=False).count() == 5


def test_decline_promotes_the_lines_reserve(world, pool, draw_now):
    draw = draw_now()
    first = _notified(draw, line=0)[0]
    reserve = draw.assignments.get(line__index=0, drawn_as=DrawnAs.RESERVE)
    assignment_respond(actor="system", assignment=first, accept=False, via="test")
    reserve.refresh_from_db()
    assert reserve.status == S.NOTIFIED and reserve.seat == first.seat and reserve.promoted_at
    first.refresh_from_db()
    assert first.status == S.DECLINED
    event = AuditEvent.objects.filter(action="expert_draw.seat_refilled").get()
    assert event.data["by"] == "reserve" and event.data["seat"] == first.seat
    _replay_ok(draw)


def test_decline_without_reserves_redraws_from_the_stream(world, pool, draw_now):
    draw = draw_now(lines=[{"specialty": "A0201", "count": 3}, {"specialty": "D01", "count": 2}])
    line = draw.lines.get(index=0)
    steps = line.steps
    first = _notified(draw, line=0)[0]
    assignment_respond(actor="system", assignment=first, accept=False, via="test")
    line.refresh_from_db()
    new = draw.assignments.get(seat=first.seat, status=S.NOTIFIED)
    assert not new.initial and new.position == steps and line.steps == steps + 1
    assert AuditEvent.objects.get(action="expert_draw.seat_refilled").data["by"] == "redraw"
    _replay_ok(draw)


def test_timeout_by_the_scheduled_step(world, pool, draw_now, clock):
    draw = draw_now(lines=[{"specialty": "A0201", "count": 3, "reserves": 0}, {"specialty": "D01", "count": 2}])
    silent = _notified(draw)
    for a in silent[1:]:
        assignment_respond(actor="system", assignment=a, accept=True, via="test")
    later = clock.move_to(silent[0].respond_by + timedelta(seconds=1))
    with pytest.raises(StateConflict, match="time limit"):
        assignment_respond(actor="system", assignment=silent[0], accept=True, via="test")
    ran = steps_run_due()
    assert any(step.kind == "expert_confirmation_timeout" and step.result == "timed out" for step in ran)
    silent[0].refresh_from_db()
    assert silent[0].status == S.TIMED_OUT
    replacement = draw.assignments.get(seat=silent[0].seat, status=S.NOTIFIED)
    assert replacement.respond_by > later
    # the accepted members' steps are no-ops
    assert all(s.result.startswith(("skipped", "timed out", "draw")) for s in ran)
    _replay_ok(draw)


def test_confirmation_window_is_a_setting_and_accelerated(world, pool, draw_now, settings):
    settings.EXPERTS_CONFIRMATION_MINUTES = 10
    settings.SANDBOX_ROOM_ACCELERATION = 60  # the rooms' factor, not the legal days' (issue 16)
    settings.SANDBOX_TIME_ACCELERATION = 1
    draw = draw_now()
    a = _notified(draw)[0]
    assert (a.respond_by - a.notified_at) == timedelta(seconds=10)


def test_expert_leaving_after_accepting_is_replaced(world, pool, draw_now):
    draw = draw_now()
    _accept_all(draw)
    member = draw.assignments.get(seat=4)
    assignment_leave(actor="system", assignment=member, reason="ill")
    member.refresh_from_db()
    draw.refresh_from_db()
    assert member.status == S.LEFT and draw.status == DrawStatus.CONFIRMING
    assert PanelRecord.objects.get(draw=draw, expert=member.expert).cancelled
    assert draw.assignments.get(seat=4, status=S.NOTIFIED).drawn_as == DrawnAs.RESERVE
    _replay_ok(draw)


def test_banning_an_expert_removes_them_from_open_panels(world, pool, draw_now):
    draw = draw_now()
    member = _notified(draw)[0]
    expert_set_status(actor="system", expert=member.expert, status=ExpertStatus.BANNED, reason="misconduct")
    member.refresh_from_db()
    assert member.status == S.LEFT and "banned" in member.left_reason
    assert draw.assignments.filter(seat=member.seat, status=S.NOTIFIED).exists()
    _replay_ok(draw)


def test_a_new_leave_period_removes_the_expert(world, pool, draw_now):
    draw = draw_now()
    _accept_all(draw)
    member = draw.assignments.get(seat=1)
    expert_leave_add(actor="system", expert=member.expert, starts_at=world.start - timedelta(hours=1),
                     ends_at=world.end)
    member.refresh_from_db()
    assert member.status == S.LEFT
    assert draw.assignments.filter(seat=1, status=S.NOTIFIED).exists()


def test_reserve_that_became_unavailable_is_skipped(world, pool, draw_now):
    draw = draw_now()
    reserve = draw.assignments.get(line__index=0, drawn_as=DrawnAs.RESERVE)
    expert_set_status(actor="system", expert=reserve.expert, status=ExpertStatus.SUSPENDED, reason="review")
    reserve.refresh_from_db()
    assert reserve.status == S.LEFT  # a reserve leaves without a seat to refill
    first = _notified(draw, line=0)[0]
    assignment_respond(actor="system", assignment=first, accept=False, via="test")
    new = draw.assignments.get(seat=first.seat, status=S.NOTIFIED)
    assert not new.initial
    _replay_ok(draw)


def test_pool_exhausted_warns_supervisors_and_duplicates_are_skipped(world, make_expert):
    # line 0 takes all four shared experts; line 1 (A02 subtree) has the same four plus one more
    shared = [make_expert("A0201") for _ in range(4)]
    extra = make_expert("A0202")
    draw = draw_start(actor=world.agent, lot=world.lot, **world.request(lines=[
        {"specialty": "A0201", "count": 3, "reserves": 1}, {"specialty": "A02", "count": 2}]))
    line1 = list(draw.assignments.filter(line__index=1).order_by("seq"))
    assert len(line1) == 5
    assert sorted(a.expert_id for a in line1 if a.skip_reason == "duplicate") == sorted(e.pk for e in shared)
    assert [a.expert_id for a in line1 if not a.skip_reason] == [extra.pk]
    assert draw.status == DrawStatus.EXHAUSTED
    warning = DrawWarning.objects.get(draw=draw)
    assert warning.kind == WarningKind.POOL_EXHAUSTED and "1 seat(s) unfilled" in warning.message
    event = AuditEvent.objects.get(action="expert_draw.pool_exhausted")
    assert event.data["unfilled_seats"] == [5]
    _replay_ok(draw)
    # a decline in the exhausted line: nothing left to draw, a second warning
    assignment_respond(actor="system", assignment=draw.assignments.get(expert=extra), accept=False, via="test")
    assert DrawWarning.objects.filter(draw=draw).count() == 2
    _replay_ok(draw)


def test_replay_detects_tampering_and_the_command_exit_code(world, pool, draw_now):
    draw = draw_now()
    assignment_respond(actor="system", assignment=_notified(draw)[0], accept=False, via="test")
    out = io.StringIO()
    call_command("experts", "replay-draw", str(draw.pk), stdout=out)
    assert "replay identical" in out.getvalue()
    # swap a drawn expert for another one directly in the database
    row = draw.assignments.filter(status=S.NOTIFIED).first()
    outsider = next(e for e in pool["roads"] + pool["cost"]
                    if not draw.assignments.filter(expert=e).exists())
    type(row).objects.filter(pk=row.pk).update(expert=outsider)
    result = draw_replay(draw)
    assert not result.ok and any("stored expert" in p for p in result.problems)
    with pytest.raises(SystemExit) as exit_info:
        call_command("experts", "replay-draw", str(draw.pk), stdout=io.StringIO(), stderr=io.StringIO())
    assert exit_info.value.code == 1
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("experts", "replay-draw", str(draw.pk), "--json", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue())["ok"] is False


def test_replay_draw_json_prints_only_json(world, pool, draw_now):
    draw = draw_now()
    out = io.StringIO()
    call_command("experts", "replay-draw", str(draw.pk), "--json", stdout=out)
    document = json.loads(out.getvalue())  # the whole output is one JSON document, nothing after it
    assert document["ok"] is True and document["draw"] == draw.pk and document["rows"]


def test_replay_detects_a_changed_pool(world, pool, draw_now):
    from experts import sampler

    draw = draw_now()
    line = draw.lines.get(index=0)
    ids = sampler.decode_ids(line.pool_ids)
    line.pool_ids = sampler.encode_ids(ids[:-1])
    line.save()
    assert any("pool" in p for p in draw_replay(draw).problems)


def test_replay_requires_the_revealed_seed_when_asked(world, pool, draw_now):
    draw = draw_now()
    assert draw_replay(draw).seed_source == "sealed"
    assert not draw_replay(draw, require_revealed=True).ok


def test_panel_reveal_publishes_names_and_salt(world, pool, draw_now):
    draw = draw_now()
    with pytest.raises(StateConflict, match="not answered"):
        panel_reveal(actor="system", draw=draw)
    _accept_all(draw)
    outcome = panel_reveal(actor=world.supervisor, draw=draw)
    assert outcome.revealed
    event = AuditEvent.objects.get(action="expert_panel.revealed")
    members = event.data["members"]
    assert len(members) == 5 and all(m["name"] for m in members)
    salt = event.data["identity_salt"]
    accepted = AuditEvent.objects.filter(action="expert_assignment.accepted")
    hashes = {hashlib.sha256(f"expert:{m['expert']}:{salt}".encode()).hexdigest() for m in members}
    assert {e.data["expert_hash"] for e in accepted} == hashes
    assert panel_reveal(actor="system", draw=draw).revealed  # idempotent


def test_reveal_rechecks_avoidance_and_refills(world, pool, draw_now, make_user):
    from trading.models import Registration

    draw = draw_now()
    _accept_all(draw)
    member = draw.assignments.get(seat=2)
    late_bidder = make_user("bidder", org=member.expert.employer) if member.expert.employer else None
    if late_bidder is None:
        from experts.models import Expert

        org = make_user("bidder").organisation
        Expert.objects.filter(pk=member.expert_id).update(employer=org)
        late_bidder = org.users.first()
    now = trading_clock.now()
    Registration.objects.create(lot=world.lot, tender=world.tender, bidder=late_bidder.organisation,
                                registered_by=late_bidder, created_at=now, updated_at=now)
    outcome = panel_reveal(actor="system", draw=draw)
    assert not outcome.revealed and outcome.removed == 1
    member.refresh_from_db()
    assert member.status == S.LEFT and "bidder_staff" in member.left_reason
    _accept_all(draw)
    assert panel_reveal(actor="system", draw=draw).revealed


def test_seed_reveal_after_the_panel_and_public_replay(world, pool, draw_now):
    draw = draw_now()
    _accept_all(draw)
    with pytest.raises(StateConflict, match="confidential"):
        draw_reveal_seed(actor="system", draw=draw)
    panel_reveal(actor="system", draw=draw)
    draw = draw_reveal_seed(actor=world.supervisor, draw=draw)
    event = AuditEvent.objects.get(action="expert_draw.seed_revealed")
    seed = bytes.fromhex(event.data["seed_hex"])
    assert hashlib.sha256(seed).hexdigest() == AuditEvent.objects.get(seq=draw.commit_seq).data["seed_sha256"]
    result = draw_replay(draw, require_revealed=True)
    assert result.ok and result.seed_source == "revealed" and len(result.panel) == 5
    assert not draw.assignments.filter(status=S.RESERVE).exists()
    out = io.StringIO()
    call_command("experts", "replay-draw", str(draw.pk), "--require-revealed", stdout=out)
    assert "identical" in out.getvalue()
    # the stream is closed: a vacancy now asks for a supplementary draw
    assignment_leave(actor="system", assignment=draw.assignments.get(seat=1), reason="ill")
    assert DrawWarning.objects.filter(draw=draw, kind=WarningKind.DRAW_CLOSED).exists()
    assert not draw.assignments.filter(status=S.NOTIFIED).exists()


def test_cancel_releases_everyone(world, pool, draw_now, make_world):
    draw = draw_now()
    _accept_all(draw)
    draw_cancel(actor=world.agent, draw=draw, reason="tender suspended")
    assert set(draw.assignments.values_list("status", flat=True)) <= {S.RELEASED}
    assert not PanelRecord.objects.filter(draw=draw, cancelled=False).exists()
    # the same lot can be drawn again, and the released experts are free
    again = draw_start(actor=world.agent, lot=world.lot, **world.request())
    assert again.status == DrawStatus.CONFIRMING


def test_committed_draw_is_finished_by_the_safety_net_step(world, pool, clock):
    draw = draw_request(actor=world.agent, lot=world.lot, **world.request())
    assert draw.status == DrawStatus.COMMITTED and not draw.assignments.exists()
    clock.advance(minutes=3)
    steps_run_due()
    draw.refresh_from_db()
    assert draw.status == DrawStatus.CONFIRMING
    _replay_ok(draw)


def test_an_early_timeout_step_defers(world, pool, draw_now):
    from experts.steps import confirmation_timeout
    from trading.models import ScheduledStep
    from trading.steps import Defer

    draw = draw_now()
    call = _notified(draw)[0]
    step = ScheduledStep.objects.get(kind="expert_confirmation_timeout", subject=f"experts.assignment:{call.pk}")
    outcome = confirmation_timeout(step)
    assert isinstance(outcome, Defer) and outcome.until == call.respond_by
    call.refresh_from_db()
    assert call.status == S.NOTIFIED
