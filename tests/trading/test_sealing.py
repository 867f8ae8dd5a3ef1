"""Sealing by role and status: downloads, registrations, question and objection authors (API)."""

from datetime import timedelta

import pytest

from trading.services.objections import objection_raise
from trading.services.questions import question_answer, question_ask
from trading.services.registrations import registration_create
from trading.services.scheduling import steps_run_due


@pytest.fixture
def busy(published, cast, api):
    """A published tender with two registrations, one download, two questions (one answered), an objection."""
    lot = published.lots.get()
    registration_create(actor=cast.bidders[0], lot=lot)
    registration_create(actor=cast.bidders[1], lot=lot)
    doc = published.documents.get()
    api.as_user(cast.bidders[0]).get(f"/api/v1/documents/{doc.pk}/download")
    api.force_authenticate(None)
    q1 = question_ask(actor=cast.bidders[0], tender=published, text="Answered question")
    question_answer(actor=cast.agent, question=q1, answer="Answer")
    question_ask(actor=cast.bidders[0], tender=published, text="Open question")
    objection_raise(actor=cast.bidders[1], tender=published, text="Objection")
    return published


def get(api, user, url):
    api.force_authenticate(user)
    return api.get(url)


def close_bidding(tender, cast, clock):
    from trading.services.objections import objection_reply

    for objection in tender.objections.filter(status="open"):
        objection_reply(actor=cast.agent, objection=objection, reply="Answered")
    clock.move_to(tender.bid_deadline + timedelta(seconds=1))
    steps_run_due()
    tender.refresh_from_db()
    assert tender.status == "bidding_closed"


def test_counts_hidden_before_deadline_except_for_supervisors(busy, cast, api):
    url = f"/api/v1/tenders/{busy.pk}"
    for user in (None, cast.agent, cast.tenderer, cast.bidders[0], cast.bidders[2], cast.public_user):
        data = get(api, user, url).json()
        assert data["registration_count"] is None and data["download_count"] is None, user
        assert data["sealed"] is True
    data = get(api, cast.supervisor, url).json()
    assert data["registration_count"] == 2 and data["download_count"] == 1
    docs = get(api, cast.agent, f"{url}/documents").json()["results"]
    assert docs[0]["download_count"] is None
    assert get(api, cast.supervisor, f"{url}/documents").json()["results"][0]["download_count"] == 1


def test_counts_revealed_to_the_tenders_side_after_deadline(busy, cast, api, clock):
    close_bidding(busy, cast, clock)
    url = f"/api/v1/tenders/{busy.pk}"
    for user in (cast.agent, cast.tenderer, cast.supervisor):
        data = get(api, user, url).json()
        assert data["registration_count"] == 2 and data["download_count"] == 1, user
    for user in (None, cast.bidders[2], cast.public_user):
        assert get(api, user, url).json()["registration_count"] is None, user


def test_registration_list_sealed(busy, cast, api, clock):
    url = f"/api/v1/tenders/{busy.pk}/registrations"
    for user in (cast.agent, cast.tenderer, cast.public_user):
        response = get(api, user, url)
        assert response.status_code == 403 and response.json()["error"]["code"] == "sealed", user
    assert get(api, None, url).status_code in (401, 403)
    assert get(api, cast.supervisor, url).json()["count"] == 2
    own = get(api, cast.bidders[0], url).json()["results"]
    assert [r["bidder"]["id"] for r in own] == [cast.bidder_orgs[0].pk]
    assert get(api, cast.bidders[2], url).json()["count"] == 0
    mine = get(api, cast.bidders[1], "/api/v1/registrations/mine").json()["results"]
    assert len(mine) == 1 and mine[0]["bidder"]["id"] == cast.bidder_orgs[1].pk
    # a bidder cannot read another's registration by id
    other = busy.registrations.get(bidder=cast.bidder_orgs[0])
    assert get(api, cast.bidders[1], f"/api/v1/registrations/{other.public_id}").status_code == 404
    assert get(api, cast.agent, f"/api/v1/registrations/{other.public_id}").status_code == 404
    assert get(api, cast.bidders[0], f"/api/v1/registrations/{other.public_id}").status_code == 200
    close_bidding(busy, cast, clock)
    assert get(api, cast.agent, url).json()["count"] == 2
    assert get(api, cast.bidders[0], url).json()["count"] == 1  # other bidders stay hidden


def test_download_list_sealed(busy, cast, api, clock):
    url = f"/api/v1/tenders/{busy.pk}/downloads"
    for user in (cast.agent, cast.tenderer, cast.bidders[0], cast.public_user):
        assert get(api, user, url).status_code == 403, user
    rows = get(api, cast.supervisor, url).json()["results"]
    assert rows[0]["organisation"]["id"] == cast.bidder_orgs[0].pk
    close_bidding(busy, cast, clock)
    assert get(api, cast.agent, url).json()["count"] == 1
    assert get(api, cast.bidders[0], url).status_code == 403


def test_question_authors_never_shown_to_the_tenders_side_or_other_bidders(busy, cast, api, clock):
    url = f"/api/v1/tenders/{busy.pk}/questions"
    public = get(api, None, url).json()["results"]
    assert [q["text"] for q in public] == ["Answered question"] and public[0]["asked_by"] is None
    agent_view = get(api, cast.agent, url).json()["results"]
    assert len(agent_view) == 2 and all(q["asked_by"] is None for q in agent_view)
    other = get(api, cast.bidders[1], url).json()["results"]
    assert [q["text"] for q in other] == ["Answered question"] and other[0]["asked_by"] is None
    asker = get(api, cast.bidders[0], url).json()["results"]
    assert len(asker) == 2 and asker[0]["asked_by"]["organisation_id"] == cast.bidder_orgs[0].pk
    supervisor = get(api, cast.supervisor, url).json()["results"]
    assert all(q["asked_by"]["organisation_id"] == cast.bidder_orgs[0].pk for q in supervisor)
    close_bidding(busy, cast, clock)  # still hidden after the deadline
    assert all(q["asked_by"] is None for q in get(api, cast.agent, url).json()["results"])
    assert all(q["asked_by"] is None for q in get(api, cast.tenderer, url).json()["results"])


def test_objection_authors_sealed_until_deadline(busy, cast, api, clock):
    url = f"/api/v1/tenders/{busy.pk}/objections"
    assert get(api, cast.agent, url).json()["results"][0]["raised_by"] is None
    assert get(api, cast.bidders[0], url).json()["count"] == 0
    assert get(api, cast.bidders[1], url).json()["results"][0]["raised_by"]["organisation_id"] == cast.bidder_orgs[1].pk
    assert get(api, cast.supervisor, url).json()["results"][0]["raised_by"] is not None
    close_bidding(busy, cast, clock)
    assert get(api, cast.agent, url).json()["results"][0]["raised_by"]["organisation_id"] == cast.bidder_orgs[1].pk


def test_overdue_objections_for_supervisors_only(busy, cast, api, clock):
    objection = busy.objections.get()
    clock.move_to(objection.reply_due_at + timedelta(minutes=1))
    rows = get(api, cast.supervisor, "/api/v1/objections/overdue").json()["results"]
    assert [r["id"] for r in rows] == [objection.pk] and rows[0]["overdue"] is True
    assert get(api, cast.agent, "/api/v1/objections/overdue").status_code == 403
    assert get(api, cast.agent, f"/api/v1/tenders/{busy.pk}/objections").json()["results"][0]["overdue"] is True
