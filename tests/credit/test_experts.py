"""Expert ratings and suspensions honoured by the draw's eligibility (avoidance reason `credit_suspended`,
in the commit event's and the avoidance report's counts); the no-show hook proposes a record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from config.errors import NotPermitted, StateConflict
from credit import rules
from credit.models import CreditRecord, ExpertSuspension, RecordStatus
from credit.rules import RecordKind
from credit.services import expert_rate, record_decide
from experts import sampler
from experts.models import AssignmentStatus
from experts.services.draws import assignment_no_show, assignment_respond, draw_request  # noqa: F401
from tests.experts.conftest import _specialties, draw_now, make_expert, pool, world  # noqa: F401  (fixtures)


def _eligible(world):  # noqa: F811 - the imported fixture
    draw = draw_request(actor=world.agent, lot=world.lot, **world.request())
    ids = set()
    for line in draw.lines.all():
        ids |= set(sampler.decode_ids(line.pool_ids))
    return draw, ids, AuditEvent.objects.get(seq=draw.commit_seq)


def test_a_supervisors_poor_rating_suspends_the_expert_from_the_draw(world, pool, make_user):  # noqa: F811
    expert = pool["roads"][0]
    supervisor = make_user("supervisor")
    expert_rate(actor=supervisor, expert_id=expert.pk, subject_ref="evaluation.evaluationsession:1", score=2,
                comment="ignored the criteria")
    suspension = ExpertSuspension.objects.get(expert_id=expert.pk)
    assert suspension.reason == "poor_rating" and suspension.ends_at - suspension.starts_at == timedelta(
        days=rules.SUSPEND_DAYS)
    draw, eligible, event = _eligible(world)
    assert expert.pk not in eligible
    assert event.data["excluded"]["credit_suspended"] == 1 and draw.excluded["credit_suspended"] == 1
    with pytest.raises(StateConflict):
        expert_rate(actor=supervisor, expert_id=expert.pk, subject_ref="evaluation.evaluationsession:1", score=1)


def test_suspension_ends_by_itself(world, pool, make_user):  # noqa: F811
    expert = pool["roads"][1]
    long_ago = timezone.now() - timedelta(days=rules.SUSPEND_DAYS + 1)
    expert_rate(actor=make_user("supervisor"), expert_id=expert.pk, subject_ref="s:1", score=1, at=long_ago)
    assert ExpertSuspension.objects.filter(expert_id=expert.pk).exists()
    _draw, eligible, event = _eligible(world)
    assert expert.pk in eligible and event.data["excluded"]["credit_suspended"] == 0


def test_repeated_poor_ratings_by_agents_suspend(world, pool):  # noqa: F811
    expert = pool["cost"][0]
    expert_rate(actor=world.agent, expert_id=expert.pk, subject_ref="s:1", score=2)
    assert not ExpertSuspension.objects.filter(expert_id=expert.pk).exists()  # one agent's poor rating: no
    expert_rate(actor=world.agent, expert_id=expert.pk, subject_ref="s:2", score=4)
    assert not ExpertSuspension.objects.filter(expert_id=expert.pk).exists()
    expert_rate(actor=world.agent, expert_id=expert.pk, subject_ref="s:3", score=1)
    assert ExpertSuspension.objects.get(expert_id=expert.pk).reason == "repeated_poor_ratings"
    with pytest.raises(NotPermitted):
        expert_rate(actor=world.bidder_users[0], expert_id=expert.pk, subject_ref="s:4", score=5)


def test_no_show_proposes_a_record_and_a_published_bar_suspends(world, make_expert, make_user, draw_now):  # noqa: F811
    experts = [make_expert("A0201", with_user=True) for _ in range(5)] + \
        [make_expert("D0101", with_user=True) for _ in range(4)]
    draw = draw_now()
    called = draw.assignments.filter(status=AssignmentStatus.NOTIFIED).select_related("expert__user").first()
    assignment_respond(actor=called.expert.user, assignment=called, accept=True, via="web")
    with pytest.raises(NotPermitted):
        assignment_no_show(actor=world.agent, assignment=called)
    supervisor = make_user("supervisor")
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(supervisor)
    r = client.post(f"/api/v1/experts/assignments/{called.pk}/no-show", {"reason": "did not come, no notice"},
                    format="json")
    assert r.status_code == 200, r.content
    record = CreditRecord.objects.get(expert_id=called.expert_id)
    assert record.kind == RecordKind.EXPERT_NO_SHOW and record.status == RecordStatus.PROPOSED
    assert AuditEvent.objects.get(seq=record.evidence[0]["seq"]).action == "expert_assignment.left"
    assert len(experts) == 9
    record_decide(actor=supervisor, record=record, publish=True, reason="confirmed", severity="serious")
    assert ExpertSuspension.objects.get(expert_id=called.expert_id).basis == {"record": record.number}
