"""Avoidance, one test per reason: the excluded expert is not in the committed pool, the count per reason
is recorded in the commit event, and no name or id of an expert is."""

import json
from datetime import date, timedelta

import pytest
from django.test import override_settings

from audit.models import AuditEvent
from experts import sampler
from experts.models import ExpertStatus, PanelRecord
from experts.services.draws import draw_request, draw_start
from experts.services.pool import (
    expert_employment_add,
    expert_leave_add,
    expert_relative_add,
    expert_set_status,
)

pytestmark = pytest.mark.django_db


def _commit(world, **overrides):
    draw = draw_request(actor=world.agent, lot=world.lot, **world.request(**overrides))
    eligible = set()
    for line in draw.lines.all():
        eligible |= set(sampler.decode_ids(line.pool_ids))
    event = AuditEvent.objects.get(seq=draw.commit_seq)
    return draw, eligible, event


def _years_ago(years: float) -> date:
    return date.today() - timedelta(days=int(365.25 * years))


def test_baseline_everyone_eligible(world, pool):
    draw, eligible, event = _commit(world)
    assert eligible == {e.pk for e in pool["roads"] + pool["cost"]}
    assert event.data["excluded"]["total"] == 0 and event.data["pool_sizes"] == [12, 8]


def test_tenderer_and_agent_staff(world, pool, make_expert):
    current = make_expert("A0201", employer=world.tenderer_org)
    former = make_expert("A0201")
    expert_employment_add(actor="system", expert=former, organisation=world.tenderer_org,
                          started_on=_years_ago(6), ended_on=_years_ago(1))
    agent_staff = make_expert("D0101", employer=world.agent_org)
    draw, eligible, event = _commit(world)
    assert not {current.pk, former.pk, agent_staff.pk} & eligible
    assert event.data["excluded"]["tenderer_staff"] == 2
    assert event.data["excluded"]["agent_staff"] == 1


def test_bidder_staff_and_former_staff_within_three_years(world, pool, make_expert):
    staff = make_expert("A0201", employer=world.bidder_orgs[0])
    recent = make_expert("A0201")
    expert_employment_add(actor="system", expert=recent, organisation=world.bidder_orgs[1],
                          started_on=_years_ago(8), ended_on=_years_ago(2.5))
    director = make_expert("D0101")
    expert_employment_add(actor="system", expert=director, organisation=world.bidder_orgs[2], position="director",
                          started_on=_years_ago(1))
    long_ago = make_expert("A0201")
    expert_employment_add(actor="system", expert=long_ago, organisation=world.bidder_orgs[1],
                          started_on=_years_ago(10), ended_on=_years_ago(3.2))
    draw, eligible, event = _commit(world)
    assert staff.pk not in eligible and recent.pk not in eligible and director.pk not in eligible
    assert long_ago.pk in eligible
    assert event.data["excluded"]["bidder_staff"] == 1
    assert event.data["excluded"]["bidder_former_staff"] == 2
    assert event.data["bidders"] == 3


def test_withdrawn_registration_is_not_a_bidder(world, pool, make_expert):
    from trading.models import Registration

    staff = make_expert("A0201", employer=world.bidder_orgs[0])
    Registration.objects.filter(bidder=world.bidder_orgs[0]).update(status="withdrawn")
    _draw, eligible, _event = _commit(world)
    assert staff.pk in eligible


def test_declared_relatives(world, pool, make_expert):
    at_bidder = make_expert("A0201")
    expert_relative_add(actor="system", expert=at_bidder, organisation=world.bidder_orgs[2], relation="配偶")
    at_tenderer = make_expert("D0101")
    expert_relative_add(actor="system", expert=at_tenderer, organisation=world.tenderer_org, relation="子女")
    _draw, eligible, event = _commit(world)
    assert at_bidder.pk not in eligible and at_tenderer.pk not in eligible
    assert event.data["excluded"]["relative"] == 2


def test_suspended_and_banned(world, pool, make_expert):
    suspended, banned = make_expert("A0201"), make_expert("D0101")
    expert_set_status(actor="system", expert=suspended, status=ExpertStatus.SUSPENDED, reason="review")
    expert_set_status(actor="system", expert=banned, status=ExpertStatus.BANNED, reason="misconduct")
    _draw, eligible, event = _commit(world)
    assert suspended.pk not in eligible and banned.pk not in eligible
    assert event.data["excluded"]["inactive"] == 2


def test_leave_overlapping_the_evaluation(world, pool, make_expert):
    away = make_expert("A0201")
    expert_leave_add(actor="system", expert=away, starts_at=world.start - timedelta(days=1),
                     ends_at=world.start + timedelta(hours=1))
    back_before = make_expert("A0201")
    expert_leave_add(actor="system", expert=back_before, starts_at=world.start - timedelta(days=3),
                     ends_at=world.start - timedelta(minutes=1))
    _draw, eligible, event = _commit(world)
    assert away.pk not in eligible and back_before.pk in eligible
    assert event.data["excluded"]["on_leave"] == 1


def test_booked_at_an_overlapping_time(world, make_world, make_expert):
    busy = make_expert("A0201", "A0202")
    free_later = make_expert("A0201", "A0203")
    for _ in range(12):
        make_expert("A0201")
    for _ in range(3):
        make_expert("D0101")
    other = make_world()
    others = [make_expert("A0202") for _ in range(4)]
    overlapping = draw_start(actor=other.agent, lot=other.lot, **other.request(
        evaluation_start=world.start + timedelta(hours=2), evaluation_end=world.end + timedelta(hours=2),
        lines=[{"specialty": "A0202", "count": 5}]))
    assert busy.pk in set(overlapping.assignments.values_list("expert_id", flat=True))
    later = make_world()
    for _ in range(4):
        make_expert("A0203")
    next_week = draw_start(actor=later.agent, lot=later.lot, **later.request(
        evaluation_start=world.start + timedelta(days=7), evaluation_end=world.end + timedelta(days=7),
        lines=[{"specialty": "A0203", "count": 5}]))
    assert free_later.pk in set(next_week.assignments.values_list("expert_id", flat=True))
    _draw, eligible, event = _commit(world)
    assert busy.pk not in eligible and free_later.pk in eligible
    assert not set(e.pk for e in others) & eligible  # not road experts anyway
    assert event.data["excluded"]["booked"] == 1


@override_settings(EXPERTS_SAME_TENDERER_CAP_PER_YEAR=3)
def test_cap_on_panels_with_the_same_tenderer(world, pool, make_expert, make_org):
    capped, under, elsewhere = make_expert("A0201"), make_expert("A0201"), make_expert("A0201")
    other_tenderer = make_org()
    for expert, tenderer, n in ((capped, world.tenderer_org, 3), (under, world.tenderer_org, 2),
                                (elsewhere, other_tenderer, 5)):
        for i in range(n):
            PanelRecord.objects.create(expert=expert, tenderer=tenderer,
                                       evaluation_start=world.start.replace(month=1, day=2) + timedelta(days=i))
    _draw, eligible, event = _commit(world)
    assert capped.pk not in eligible and under.pk in eligible and elsewhere.pk in eligible
    assert event.data["excluded"]["tenderer_cap"] == 1


@override_settings(EXPERTS_SAME_TENDERER_CAP_PER_YEAR=0)
def test_cap_can_be_switched_off(world, pool, make_expert):
    capped = make_expert("A0201")
    for _ in range(5):
        PanelRecord.objects.create(expert=capped, tenderer=world.tenderer_org, evaluation_start=world.start)
    _draw, eligible, _event = _commit(world)
    assert capped.pk in eligible


def test_regions_and_specialty_subtree(world, pool, make_expert):
    ningbo = make_expert("A0201", region="330200")
    shanghai = make_expert("A0201", region="310100")
    bridges = make_expert("A0202")  # not in the A0201 subtree
    draw, eligible, _event = _commit(world, regions=["3301", "3302"])
    assert ningbo.pk in eligible and shanghai.pk not in eligible and bridges.pk not in eligible
    draw.status = "cancelled"
    draw.save()
    _draw, eligible, _event = _commit(world, lines=[{"specialty": "A02", "count": 3}, {"specialty": "D", "count": 2}])
    assert bridges.pk in eligible and shanghai.pk in eligible


def test_commit_event_carries_counts_never_identities(world, pool, make_expert):
    staff = make_expert("A0201", employer=world.bidder_orgs[0], name="回避专家甲")
    _draw, _eligible, event = _commit(world)
    text = json.dumps(event.data, ensure_ascii=False)
    assert "回避专家甲" not in text and staff.phone not in text
    assert set(event.data["excluded"]) >= {"inactive", "tenderer_staff", "agent_staff", "bidder_staff",
                                          "bidder_former_staff", "relative", "on_leave", "booked", "tenderer_cap",
                                          "total", "candidates"}
    assert event.data["tender"] == world.tender.pk
