"""Sealing by role, in the API and the pages: agents and tenderers see counts and statuses; an expert sees
their own assignment; supervisors see everything; operators may not browse the pool during a draw."""

import json

import pytest

from accounts.roles import Role
from audit.models import AuditEvent
from experts.models import AssignmentStatus
from experts.services.draws import assignment_respond, panel_reveal

pytestmark = pytest.mark.django_db


@pytest.fixture
def drawn(world, make_expert, draw_now):
    experts = [make_expert("A0201", with_user=True, name=f"道路专家{i}") for i in range(6)]
    experts += [make_expert("D0101", with_user=True, name=f"造价专家{i}") for i in range(4)]
    draw = draw_now()
    return draw, experts


def _names(experts):
    return [e.name for e in experts] + [e.phone for e in experts]


def _leaks(text: str, experts) -> list[str]:
    return [n for n in _names(experts) if n in text]


def test_agent_and_tenderer_see_counts_and_statuses_only(world, drawn, api):
    draw, experts = drawn
    for user in (world.agent, world.tenderer):
        response = api.as_user(user).get(f"/api/v1/draws/{draw.pk}")
        assert response.status_code == 200
        body = response.json()
        assert body["identities"] is False and body["sequence"] == [] and body["commitment"] is None
        assert [s["status"] for s in body["seats"]] == ["notified"] * 5
        assert all(s["expert"] is None for s in body["seats"])
        assert not _leaks(response.content.decode(), experts)
        listing = api.as_user(user).get("/api/v1/draws/").json()
        assert [d["id"] for d in listing["results"]] == [draw.pk]


def test_supervisor_sees_everything(world, drawn, api):
    draw, experts = drawn
    body = api.as_user(world.supervisor).get(f"/api/v1/draws/{draw.pk}").json()
    assert body["identities"] is True and len(body["sequence"]) == 7
    assert all(s["expert"]["name"] for s in body["seats"])
    assert body["commitment"]["entropy"] == draw.entropy and body["commitment"]["seed"] is None
    assert "seed_sealed" not in json.dumps(body)


def test_outsiders_get_403(world, drawn, api, make_user):
    draw, experts = drawn
    member_user = draw.assignments.filter(status=AssignmentStatus.NOTIFIED).first().expert.user
    for user in (make_user(Role.AGENT), world.bidder_users[0], member_user, make_user(Role.PLATFORM_ADMIN)):
        assert api.as_user(user).get(f"/api/v1/draws/{draw.pk}").status_code == 403
        assert api.as_user(user).get("/api/v1/draws/").json()["results"] == []


def test_expert_sees_only_their_own_assignment(world, drawn, api):
    draw, experts = drawn
    mine, other = list(draw.assignments.filter(status=AssignmentStatus.NOTIFIED))[:2]
    client = api.as_user(mine.expert.user)
    inbox = client.get("/api/v1/experts/me/assignments").json()["results"]
    assert [a["id"] for a in inbox] == [mine.pk]
    assert inbox[0]["tender_code"] == world.tender.code
    assert not _leaks(json.dumps(inbox, ensure_ascii=False), [e for e in experts if e.pk != mine.expert_id])
    assert client.get(f"/api/v1/experts/assignments/{other.pk}").status_code == 403
    assert client.post(f"/api/v1/experts/assignments/{other.pk}/accept").status_code == 403
    response = client.post(f"/api/v1/experts/assignments/{mine.pk}/accept")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert client.post(f"/api/v1/experts/assignments/{mine.pk}/accept").status_code == 409


def test_reserves_are_not_in_the_inbox(world, drawn, api):
    draw, _experts = drawn
    reserve = draw.assignments.filter(status=AssignmentStatus.RESERVE).first()
    assert api.as_user(reserve.expert.user).get("/api/v1/experts/me/assignments").json()["results"] == []


def test_pool_browsing_by_role_and_during_a_draw(world, make_expert, api, draw_now):
    for _ in range(6):
        make_expert("A0201")
    for _ in range(4):
        make_expert("D0101")
    operator = api.as_user(world.operator)
    assert operator.get("/api/v1/experts/pool").status_code == 200
    assert api.as_user(world.agent).get("/api/v1/experts/pool").status_code == 403
    draw = draw_now()
    response = api.as_user(world.operator).get("/api/v1/experts/pool")
    assert response.status_code == 403 and response.json()["error"]["code"] == "draw_in_progress"
    assert api.as_user(world.operator).get(f"/api/v1/experts/pool/{draw.assignments.first().expert_id}"
                                           ).status_code == 403
    assert api.as_user(world.agent).get("/api/v1/experts/pool").status_code == 403
    assert api.as_user(world.supervisor).get("/api/v1/experts/pool").status_code == 200
    for a in draw.assignments.filter(status=AssignmentStatus.NOTIFIED):
        assignment_respond(actor="system", assignment=a, accept=True, via="test")
    assert api.as_user(world.operator).get("/api/v1/experts/pool").status_code == 200


def test_operator_manages_the_pool(world, api, make_org):
    client = api.as_user(world.operator)
    body = {"name": "新专家", "id_number": "11010519491231002X", "phone": "+86 139 0000 1234", "region": "330100",
            "specialties": ["A0201", "D01"], "employer": make_org().pk, "title": "高级工程师", "years": 12}
    response = client.post("/api/v1/experts/pool", body, format="json")
    assert response.status_code == 201, response.content
    expert_id = response.json()["id"]
    assert response.json()["phone"] == "13900001234" and "id_number" not in response.json()
    assert client.post("/api/v1/experts/pool", body, format="json").status_code == 400  # same ID number
    assert client.post("/api/v1/experts/pool", {**body, "id_number": "110105194912310021"},
                       format="json").status_code == 400  # bad check digit
    assert client.patch(f"/api/v1/experts/pool/{expert_id}", {"title": "教授"}, format="json").json()["title"] == "教授"
    assert client.post(f"/api/v1/experts/pool/{expert_id}/status", {"status": "banned"},
                       format="json").status_code == 400  # reason required
    assert client.post(f"/api/v1/experts/pool/{expert_id}/leaves", {
        "starts_at": "2030-01-01T08:00:00+08:00", "ends_at": "2030-01-05T08:00:00+08:00"},
        format="json").status_code == 201
    assert api.as_user(world.agent).post("/api/v1/experts/pool", body, format="json").status_code == 403
    event = AuditEvent.objects.get(action="expert.created")
    assert "11010519491231002X" not in json.dumps(event.data)


def test_audit_events_carry_hashes_until_the_reveal(world, drawn):
    draw, experts = drawn
    for a in draw.assignments.filter(status=AssignmentStatus.NOTIFIED):
        assignment_respond(actor="system", assignment=a, accept=True, via="test")
    sealed = AuditEvent.objects.filter(action__startswith="expert_")
    text = json.dumps([e.as_dict() for e in sealed], ensure_ascii=False)
    assert not _leaks(text, experts)
    ids = {a.expert_id for a in draw.assignments.all()}
    for event in sealed:
        assert "expert" not in event.data or event.data["expert"] not in ids
        assert event.actor in ("system", str(world.agent.pk))
        assert event.data.get("tender") == world.tender.pk
    panel_reveal(actor="system", draw=draw)
    reveal = AuditEvent.objects.get(action="expert_panel.revealed")
    assert _leaks(json.dumps(reveal.data, ensure_ascii=False), experts)


def test_agent_sees_names_after_the_reveal(world, drawn, api):
    draw, experts = drawn
    for a in draw.assignments.filter(status=AssignmentStatus.NOTIFIED):
        assignment_respond(actor="system", assignment=a, accept=True, via="test")
    panel_reveal(actor="system", draw=draw)
    body = api.as_user(world.agent).get(f"/api/v1/draws/{draw.pk}").json()
    assert body["identities"] is True and all(s["expert"] for s in body["seats"])
    assert body["sequence"] == []  # the drawing sequence stays with supervisors


# --- pages ------------------------------------------------------------------------------------

def test_agent_pages_show_no_identities(world, drawn, client):
    draw, experts = drawn
    client.force_login(world.agent)
    page = client.get(f"/agent/draws/{draw.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert not _leaks(text, experts) and world.tender.code in text
    assert client.get("/agent/draws/").status_code == 200
    assert client.get(f"/supervisor/draws/{draw.pk}/").status_code == 403
    assert client.get(f"/supervisor/draws/{draw.pk}/replay/").status_code == 403


def test_supervisor_pages_show_everything_and_replay(world, drawn, client):
    draw, experts = drawn
    client.force_login(world.supervisor)
    page = client.get(f"/supervisor/draws/{draw.pk}/").content.decode()
    drawn_names = [a.expert.name for a in draw.assignments.select_related("expert")]
    assert all(name in page for name in drawn_names) and draw.entropy in page
    assert client.get("/supervisor/draws/").status_code == 200
    replay = client.get(f"/supervisor/draws/{draw.pk}/replay/")
    assert replay.status_code == 200 and draw.pool_sha256 in replay.content.decode()


def test_expert_inbox_page_and_answers(world, drawn, client):
    draw, experts = drawn
    mine, other = list(draw.assignments.filter(status=AssignmentStatus.NOTIFIED).select_related("expert"))[:2]
    client.force_login(mine.expert.user)
    page = client.get("/expert/assignments/").content.decode()
    assert world.tender.code in page and other.expert.name not in page
    assert client.get(f"/agent/draws/{draw.pk}/").status_code == 403
    assert client.post(f"/expert/assignments/{other.pk}/accept/").status_code == 403
    response = client.post(f"/expert/assignments/{mine.pk}/decline/")
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.DECLINED and mine.response_via == "web"


def test_agent_requests_a_draw_from_the_page(world, make_expert, client):
    for _ in range(5):
        make_expert("A0201")
        make_expert("D0101")
    client.force_login(world.agent)
    assert client.get("/agent/draws/new/").status_code == 200
    form = {"lot": world.lot.pk, "evaluation_start": world.start.strftime("%Y-%m-%dT%H:%M"),
            "evaluation_end": world.end.strftime("%Y-%m-%dT%H:%M"), "place": "Room 1", "committee_size": 4,
            "owner_representatives": 0, "regions": "", "line0_specialty": "A0201", "line0_count": 4,
            "line0_reserves": 0}
    refused = client.post("/agent/draws/new/", form)
    assert refused.status_code == 200 and "招标投标法 Art 37" in refused.content.decode()
    form.update(committee_size=5, line1_specialty="D0101", line1_count=1, line1_reserves=1)
    response = client.post("/agent/draws/new/", form)
    assert response.status_code == 302
    from experts.models import Draw

    draw = Draw.objects.get()
    assert response["Location"] == f"/agent/draws/{draw.pk}/" and draw.expert_seats == 5


def test_supervisor_reveal_and_seed_from_the_page(world, drawn, client):
    draw, experts = drawn
    client.force_login(world.supervisor)
    next_url = f"/supervisor/draws/{draw.pk}/"
    response = client.post(f"/supervisor/draws/{draw.pk}/reveal/", {"next": next_url})
    assert response.status_code == 302  # refused (calls pending), shown as a message
    draw.refresh_from_db()
    assert draw.revealed_at is None
    for a in draw.assignments.filter(status=AssignmentStatus.NOTIFIED):
        assignment_respond(actor="system", assignment=a, accept=True, via="test")
    client.post(f"/supervisor/draws/{draw.pk}/reveal/", {"next": next_url})
    client.post(f"/supervisor/draws/{draw.pk}/reveal-seed/", {"next": next_url})
    draw.refresh_from_db()
    assert draw.revealed_at and draw.seed_revealed
    assert draw.seed_revealed in client.get(next_url).content.decode()


def test_bad_input_is_4xx_never_5xx(world, drawn, api):
    draw, _experts = drawn
    from rest_framework.test import APIClient

    agent, operator, supervisor = APIClient(), APIClient(), APIClient()
    for client, user in ((agent, world.agent), (operator, world.operator), (supervisor, world.supervisor)):
        client.force_authenticate(user=user)
    cases = [
        (agent, "post", "/api/v1/draws/", {"lot": world.lot.pk, "lines": [{"specialty": 5, "count": "x"}]}),
        (agent, "post", "/api/v1/draws/", {"lot": world.lot.pk, "evaluation_start": "soon", "lines": []}),
        (agent, "post", "/api/v1/draws/", ["not", "an", "object"]),
        (agent, "post", f"/api/v1/draws/{draw.pk}/cancel", {"reason": ["x"] * 3}),
        (agent, "post", f"/api/v1/draws/{draw.pk}/reveal", {}),
        (agent, "get", f"/api/v1/draws/{draw.pk}/replay", None),
        (agent, "get", "/api/v1/draws/999999", None),
        (supervisor, "post", f"/api/v1/draws/{draw.pk}/reveal-seed", {}),
        (supervisor, "post", "/api/v1/draws/warnings/999999/acknowledge", {}),
        (operator, "post", "/api/v1/experts/pool", {"name": "x", "id_number": "1" * 18, "phone": "",
                                                     "region": "33", "specialties": []}),
        (operator, "post", "/api/v1/experts/pool/999999/status", {"status": "banned", "reason": "x"}),
        (operator, "post", f"/api/v1/experts/pool/{draw.assignments.first().expert_id}/leaves",
         {"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}),
        (operator, "post", f"/api/v1/experts/pool/{draw.assignments.first().expert_id}/employments",
         {"organisation": 999999}),
        (operator, "patch", f"/api/v1/experts/pool/{draw.assignments.first().expert_id}", {"user": world.agent.pk}),
        (agent, "post", "/api/v1/experts/assignments/999999/accept", {}),
    ]
    for client, method, url, body in cases:
        response = getattr(client, method)(url, body, format="json") if body is not None else client.get(url)
        assert 400 <= response.status_code < 500, (url, response.status_code, response.content[:200])
        assert "error" in response.json(), url
