"""Pages in both languages (public list, notice, room, record; credit query and record), the enterprise's
registration and confirmation through pages, and the live drawing room watched by a bidder, the
supervisor and the public over the WebSocket (supervisor-only exclusions redacted for the others)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.urls import path

from credit.rules import RecordKind
from credit.services import record_decide, record_propose
from smallworks.consumers import DrawingRoomConsumer
from smallworks.models import PickStatus
from smallworks.services import drawing_commit, drawing_sample, drawing_start
from tests.smallworks.conftest import document


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_public_pages_render(fp, reviewed, client, language, clock):
    project = reviewed(deposit=0)
    drawing_start(actor=fp.agent, project=project)
    record = record_propose(kind=RecordKind.COLLUSION, organisation=fp.orgs[0], facts="confirmed")
    record_decide(actor=fp.supervisor, record=record, publish=True, reason="ok")  # pages query at the real time
    client.cookies["django_language"] = language
    pid = project.public_id
    for url in ("/fixed-price/", f"/fixed-price/{pid}/", f"/fixed-price/{pid}/room/", f"/fixed-price/{pid}/drawing/",
                "/credit/", f"/credit/?q={fp.orgs[0].uscc}", f"/credit/records/{record.number}/"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, url
    page = client.get(f"/fixed-price/{pid}/drawing/").content.decode()
    assert "MISMATCH" not in page and project.drawing.seed_revealed in page
    assert record.number in client.get(f"/credit/?q={fp.orgs[0].uscc}").content.decode()
    assert client.get("/credit/records/XY1999999999/").status_code == 404


def test_register_and_confirm_through_pages(fp, make_project, client, clock, api):
    from smallworks.services import entry_review, review_publish
    from tests.smallworks.conftest import pay

    project = make_project()
    pid = project.public_id
    for bidder in fp.bidders[:2]:
        client.force_login(bidder)
        response = client.post(f"/fixed-price/{pid}/register", {"documents": document(), "relation_declared": ""})
        assert response.status_code == 302
    for entry in project.entries.all():
        pay(api, entry)
    clock.advance(days=5, minutes=1)
    client.force_login(fp.agent)
    for entry in project.entries.all():
        assert client.post(f"/fixed-price/{pid}/entries/{entry.pk}/review",
                           {"passed": "1", "reasons": "valid licence"}).status_code == 302
        entry.refresh_from_db()
        assert entry.qualification == "passed"
    review_publish(actor=fp.agent, project=project)
    clock.advance(days=4)
    assert client.post(f"/fixed-price/{pid}/do/draw").status_code == 302
    pick = project.drawing.picks.get(status=PickStatus.CALLED)
    bidder = next(b for b in fp.bidders if b.organisation_id == pick.organisation_id)
    client.force_login(bidder)
    assert "Confirm and sign" in client.get(f"/fixed-price/{pid}/").content.decode()
    assert client.post(f"/fixed-price/{pid}/picks/{pick.pk}/confirm").status_code == 302
    pick.refresh_from_db()
    assert pick.status == PickStatus.SIGNED
    assert entry_review  # imported for the agent's page flow above


application = URLRouter([path("ws/fixed-price/<int:project_id>/", DrawingRoomConsumer.as_asgi())])


async def _watch(project, user):
    communicator = WebsocketCommunicator(application, f"/ws/fixed-price/{project.pk}/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    snapshot = await communicator.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot"
    return communicator, snapshot


async def _until(communicator, kind):
    seen = []
    while True:
        message = await communicator.receive_json_from(timeout=5)
        seen.append(message)
        if message["type"] == "event" and message["kind"] == kind:
            return seen


@pytest.mark.django_db(transaction=True)
async def test_live_room_watched_by_bidder_supervisor_and_public(fp, reviewed):
    project = await database_sync_to_async(reviewed)(deposit=0)
    watchers = {}
    for name, user in (("bidder", fp.bidders[0]), ("supervisor", fp.supervisor), ("public", AnonymousUser())):
        watchers[name] = await _watch(project, user)
    drawing = await database_sync_to_async(drawing_commit)(actor=fp.agent, project=project)
    await database_sync_to_async(drawing_sample)(drawing_id=drawing.pk)
    results = {name: await _until(c, "drawn") for name, (c, _s) in watchers.items()}
    for name, seen in results.items():
        ids = [m["id"] for m in seen if m["type"] in ("event", "redacted")]
        assert ids == list(range(ids[0], ids[0] + len(ids))), name  # gapless
        kinds = [m["kind"] for m in seen if m["type"] == "event"]
        assert kinds[0] == "committed" and kinds.count("pick") == 3, (name, kinds)
        assert ("exclusions" in kinds) == (name == "supervisor"), name
    picks = [m["payload"]["organisation"] for m in results["public"] if m.get("kind") == "pick"]
    drawn = await database_sync_to_async(lambda: [p.organisation.name for p in drawing.picks.select_related(
        "organisation").order_by("position")])()
    assert picks == drawn
    for communicator, _ in watchers.values():
        await communicator.disconnect()
    # A late joiner gets the same result in its snapshot.
    communicator, snapshot = await _watch(project, AnonymousUser())
    assert [p["organisation"] for p in snapshot["state"]["picks"]] == drawn
    assert snapshot["state"]["excluded"] is None and snapshot["state"]["seed"]
    await communicator.disconnect()


def test_pages_are_translated(fp, make_project, client):
    project = make_project()
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/fixed-price/{project.public_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "固定合同价" in page and "资格条件" in page
    assert "单位名称或统一社会信用代码" in client.get("/credit/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
