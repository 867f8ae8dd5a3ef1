"""Committee rules and request validation: every refusal names its legal source; the API answers 4xx JSON."""

from datetime import timedelta
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from config.errors import DomainError, NotPermitted, RuleViolation, StateConflict
from experts.models import Draw
from experts.services.draws import draw_start

pytestmark = pytest.mark.django_db


def _start(w, **overrides):
    return draw_start(actor=w.agent, lot=w.lot, **w.request(**overrides))


def test_even_committee_is_refused_with_source(world, pool):
    with pytest.raises(RuleViolation, match=r"odd.*招标投标法 Art 37"):
        _start(world, committee_size=6, owner_representatives=1)
    assert not Draw.objects.exists()


def test_committee_below_five_is_refused(world, pool):
    with pytest.raises(RuleViolation, match=r"5 or more.*招标投标法 Art 37"):
        _start(world, committee_size=3, lines=[{"specialty": "A0201", "count": 2}, {"specialty": "D01", "count": 1}])


def test_two_thirds_technical_and_economic(world, pool, make_expert):
    for _ in range(3):
        make_expert("E01")
    lines = [{"specialty": "A0201", "count": 2}, {"specialty": "D01", "count": 1}, {"specialty": "E01", "count": 2}]
    with pytest.raises(RuleViolation, match=r"two thirds.*招标投标法 Art 37"):
        _start(world, lines=lines)
    # 3 technical/economic of 5 with 2 representatives: 3 < 10/3 → refused as well
    with pytest.raises(RuleViolation, match="two thirds"):
        _start(world, owner_representatives=2, lines=[{"specialty": "A0201", "count": 3}])
    # 4 of 5 is enough (4 * 3 >= 5 * 2)
    draw = _start(world, lines=[{"specialty": "A0201", "count": 3}, {"specialty": "D01", "count": 1},
                                {"specialty": "E01", "count": 1}])
    assert draw.pk


def test_government_procurement_of_ten_million_needs_seven(make_world, make_expert):
    w = make_world(procedure_type="government_procurement", price=Decimal("10000000"))
    for _ in range(10):
        make_expert("B0101")
        make_expert("D02")
    with pytest.raises(RuleViolation, match=r"7 or more.*政府采购货物和服务招标投标管理办法 Art 47"):
        _start(w, lines=[{"specialty": "B0101", "count": 3}, {"specialty": "D02", "count": 2}])
    draw = _start(w, committee_size=7, lines=[{"specialty": "B0101", "count": 4}, {"specialty": "D02", "count": 3}])
    assert draw.expert_seats == 7


def test_government_procurement_below_the_threshold_needs_five(make_world, make_expert):
    w = make_world(procedure_type="government_procurement", price=Decimal("9999999.99"))
    for _ in range(6):
        make_expert("B0101")
    assert _start(w, lines=[{"specialty": "B0101", "count": 5}]).committee_size == 5


def test_lines_must_add_up_to_the_committee(world, pool):
    with pytest.raises(DomainError, match="not the committee size"):
        _start(world, committee_size=7)
    with pytest.raises(DomainError, match="Unknown specialty"):
        _start(world, lines=[{"specialty": "Z99", "count": 5}])
    with pytest.raises(DomainError, match="at least one member"):
        _start(world, lines=[{"specialty": "A0201", "count": 0}, {"specialty": "D01", "count": 5}])


def test_times_place_and_tender_state(world, pool, now):
    with pytest.raises(DomainError, match="future"):
        _start(world, evaluation_start=now - timedelta(minutes=1))
    with pytest.raises(DomainError, match="end after"):
        _start(world, evaluation_end=world.start)
    with pytest.raises(DomainError, match="place"):
        _start(world, place="", remote=False)
    with pytest.raises(DomainError, match="division code"):
        _start(world, regions=["Hangzhou"])
    world.tender.status = "draft"
    world.tender.save()
    with pytest.raises(StateConflict):
        _start(world)


def test_only_the_tenders_agent_may_draw(world, pool, make_user):
    other_agent = make_user("agent")
    for actor in (other_agent, world.tenderer, world.supervisor, world.bidder_users[0]):
        with pytest.raises(NotPermitted):
            draw_start(actor=actor, lot=world.lot, **world.request())


def test_one_open_draw_per_lot(world, pool, draw_now):
    draw_now()
    with pytest.raises(StateConflict, match="already open"):
        draw_now()


def test_api_refusals_are_4xx_json_with_the_source(world, pool, api):
    client = api.as_user(world.agent)
    body = {"lot": world.lot.pk, "evaluation_start": world.start.isoformat(),
            "evaluation_end": world.end.isoformat(), "place": "Room 3", "committee_size": 4,
            "owner_representatives": 0, "lines": [{"specialty": "A0201", "count": 4}]}
    response = client.post("/api/v1/draws/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "committee_size" and "招标投标法 Art 37" in error["message"]
    assert client.post("/api/v1/draws/", {**body, "lines": "nonsense"}, format="json").status_code == 400
    assert client.post("/api/v1/draws/", {**body, "lot": 999999}, format="json").status_code == 400
    assert client.post("/api/v1/draws/", {"lot": "x"}, format="json").status_code == 400
    assert not AuditEvent.objects.filter(action="expert_draw.committed").exists()
