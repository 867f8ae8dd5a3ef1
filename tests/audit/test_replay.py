"""Supervisor replay: the tender rebuilt from its audit events, per-event verification, filters,
the page and the API (supervisors only)."""

# The cast, tenders and clock are shared fixtures (tests/fixtures/); English and media root as in tests/trading:
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from audit import checkpoints
from audit.models import AuditEvent
from audit.replay import tender_replay
from audit.replay_reducers import fold, interpreted, summary
from audit.trust import trust_from_text
from tests.audit.tamper import guard_off, rewrite
from tests.fixtures.directory import _english, _media_root  # noqa: F401
from tests.supervision.test_collusion import opened  # noqa: F401
from tests.trading.evaluation.conftest import fake, make_world  # noqa: F401
from trading.models import TenderStatus
from trading.services.objections import objection_raise, objection_reply
from trading.services.questions import question_answer, question_ask
from trading.services.registrations import registration_create, registration_withdraw
from trading.services.scheduling import steps_run_due

DAY = timedelta(days=1)


def _seq_of(tender, action: str, nth: int = 0) -> int:
    events = [e for e in tender_replay(tender=tender.pk).events if e.event.action == action]
    return events[nth].event.seq


@pytest.fixture
def flow(published, cast, clock):
    """A tender taken through trading services: published, two registrations (one withdrawn and
    re-made by another bidder), a question answered, an objection raised and answered, the deadline."""
    lot = published.lots.get()
    registration_create(actor=cast.bidders[0], lot=lot)
    second, _ = registration_create(actor=cast.bidders[1], lot=lot)
    registration_withdraw(actor=cast.bidders[1], registration=second)
    registration_create(actor=cast.bidders[2], lot=lot)
    question = question_ask(actor=cast.bidders[0], tender=published, text="Is asphalt AC-13 acceptable?")
    question_answer(actor=cast.agent, question=question, answer="Yes.")
    objection = objection_raise(actor=cast.bidders[2], tender=published, text="Clause 5 favours one brand.")
    objection_reply(actor=cast.agent, objection=objection, reply="Clause 5 is removed.")
    clock.move_to(published.bid_deadline + timedelta(seconds=1))
    steps_run_due()
    published.refresh_from_db()
    return published


def test_state_is_rebuilt_as_of_several_events(flow, cast):
    tender = flow
    created = tender_replay(tender=tender.pk, at=_seq_of(tender, "tender.created"))
    assert created.state["status"] == "draft" and created.state["code"] == tender.code
    assert created.state["lots"] == {} and created.state["notices"] == []

    at_publish = tender_replay(tender=tender.pk, at=_seq_of(tender, "notice.published"))
    state = at_publish.state
    assert state["status"] == "published" and state["documents_issued"]
    assert len(state["lots"]) == 1 and next(iter(state["lots"].values()))["estimated_price"] == "10000000.00"
    document = tender.documents.get()
    assert [d["sha256"] for d in state["documents"].values()] == [document.sha256]
    notice = tender.notices.get(kind="tender")
    assert state["notices"][0]["content_sha256"] == notice.content_sha256
    assert state["notices"][0]["documents"] == [{"name": document.name, "sha256": document.sha256}]
    assert summary(state)["registrations"] == 0

    withdrawn = tender_replay(tender=tender.pk, at=_seq_of(tender, "registration.withdrawn"))
    registrations = withdrawn.state["registrations"]
    assert (registrations["created"], registrations["withdrawn"], registrations["active"]) == (2, 1, 1)
    # sealed: hashes only, never the organisation
    assert len(registrations["bidder_hashes"]) == 1 and cast.bidder_orgs[0].name not in json.dumps(withdrawn.state)

    raised = tender_replay(tender=tender.pk, at=_seq_of(tender, "objection.raised"))
    assert raised.state["status"] == "published"  # the suspension is the next event
    suspended = tender_replay(tender=tender.pk, at=_seq_of(tender, "objection.raised") + 1)
    assert suspended.state["status"] == "suspended" and suspended.state["suspended_from"] == "published"
    assert summary(suspended.state)["objections_open"] == 1 and summary(suspended.state)["questions_answered"] == 1

    replied = tender_replay(tender=tender.pk, at=_seq_of(tender, "objection.replied"))
    assert next(iter(replied.state["objections"].values()))["status"] == "replied"

    closed_seq = next(e.event.seq for e in tender_replay(tender=tender.pk).events
                      if e.event.action == "tender.status_changed" and e.event.data["to"] == "bidding_closed")
    closed = tender_replay(tender=tender.pk, at=closed_seq)
    assert closed.state["status"] == TenderStatus.BIDDING_CLOSED
    assert closed.state["seal_salt"] == tender.seal_salt and closed.state["registrations"]["at_deadline"] == 2
    assert before_salt_is_sealed(tender, closed_seq)

    last = tender_replay(tender=tender.pk)
    assert last.selected.event.seq == last.events[-1].event.seq
    assert last.state["status"] == tender.status  # the log agrees with the tables
    assert last.state["events"] == last.total and last.failed == 0


def before_salt_is_sealed(tender, closed_seq: int) -> bool:
    return tender_replay(tender=tender.pk, at=closed_seq - 1).state["seal_salt"] is None


def test_fold_is_pure_and_tolerates_unknown_actions():
    events = [
        {"seq": 1, "ts": "t1", "actor": "7", "action": "tender.created", "object": "trading.tender:5",
         "data": {"tender": 5, "code": "GC-1", "title": "Road", "bid_deadline": "2027-01-01T00:00:00.000000Z"}},
        {"seq": 2, "ts": "t2", "actor": "7", "action": "frobnicator.spun", "object": "x:1", "data": {"tender": 5}},
        {"seq": 3, "ts": "t3", "actor": "system", "action": "bid.submitted", "object": "trading.bid:9",
         "data": {"tender": 5, "lot": 1, "envelope_sha256": "ab" * 32, "replaces": None}},
        {"seq": 4, "ts": "t4", "actor": "system", "action": "bid.replaced", "object": "trading.bid:10",
         "data": {"tender": 5, "lot": 1, "envelope_sha256": "cd" * 32, "replaces": 9}},
        {"seq": 5, "ts": "t5", "actor": "system", "action": "opening.phase_changed", "object": "trading.opening:1",
         "data": {"tender": 5, "to": "decrypting"}},
        {"seq": 6, "ts": "t6", "actor": "system", "action": "tender.deadline_moved", "object": "trading.tender:5",
         "data": {"tender": 5, "from": "2027-01-01T00:00:00.000000Z", "to": "2027-02-01T00:00:00.000000Z"}},
    ]
    state = fold(events, tender=5)
    assert state["not_interpreted"] == [{"seq": 2, "action": "frobnicator.spun"}]
    assert not interpreted("frobnicator.spun") and interpreted("opening.anything")
    assert state["bids"]["9"]["status"] == "replaced" and state["bids"]["10"]["status"] == "received"
    assert summary(state)["bids"] == 1
    assert state["opening"]["state"] == "decrypting"
    assert state["bid_deadline"] == "2027-02-01T00:00:00.000000Z" and state["events"] == 6
    assert fold(events, tender=5) == state  # deterministic, inputs untouched
    assert events[3]["data"] == {"tender": 5, "lot": 1, "envelope_sha256": "cd" * 32, "replaces": 9}


def test_every_event_verifies_against_the_signed_checkpoint(flow):
    pending = tender_replay(tender=flow.pk)
    assert {e.check.status for e in pending.events} == {"pending"}  # no checkpoint yet
    assert pending.checkpoint.signature_ok is None
    checkpoints.checkpoint_create()
    replay = tender_replay(tender=flow.pk)
    assert replay.checkpoint.signature_ok is True and replay.failed == 0
    assert all(e.check.status == "verified" and e.check.inclusion for e in replay.events)


def test_an_altered_event_shows_a_cross(flow):
    checkpoints.checkpoint_create()
    target = tender_replay(tender=flow.pk, at=_seq_of(flow, "question.answered")).selected.event
    with guard_off() as cursor:
        cursor.execute("UPDATE audit_auditevent SET data = %s WHERE seq = %s",
                       [json.dumps({**target.data, "answer_sha256": "0" * 64}), target.seq])
    replay = tender_replay(tender=flow.pk, at=target.seq)
    check = replay.selected.check
    assert not check.ok and not check.leaf and check.link and check.inclusion is False
    assert "altered" in " ".join(check.problems)
    assert replay.failed == 1
    others = [e for e in replay.events if e.event.seq != target.seq]
    assert all(e.check.ok for e in others)


def test_a_rewritten_and_rechained_log_fails_inclusion(flow):
    checkpoints.checkpoint_create()
    seq = _seq_of(flow, "objection.replied")
    event = AuditEvent.objects.get(seq=seq)
    rewrite(seq, {**event.data, "late": True})
    replay = tender_replay(tender=flow.pk, at=seq)
    check = replay.selected.check
    assert check.leaf and check.link  # the chain itself verifies
    assert check.inclusion is False and not check.ok
    assert replay.state["objections"][str(event.data["objection"])]["late"] is True  # shown as recorded


def test_filters_by_actor_and_kind(flow, cast):
    by_agent = tender_replay(tender=flow.pk, actor=str(cast.agent.pk))
    assert by_agent.events and {e.event.actor for e in by_agent.events} == {str(cast.agent.pk)}
    assert by_agent.total > len(by_agent.events)
    objections = tender_replay(tender=flow.pk, kind="objection")
    assert [e.event.action for e in objections.events] == ["objection.raised", "objection.replied"]
    assert "objection" in objections.kinds and "system" in objections.actors
    one_action = tender_replay(tender=flow.pk, kind="registration.withdrawn")
    assert [e.event.action for e in one_action.events] == ["registration.withdrawn"]
    # the state at a filtered event is still the fold of every event up to it
    full = tender_replay(tender=flow.pk, at=objections.events[-1].event.seq)
    assert objections.state == tender_replay(tender=flow.pk, at=objections.events[-1].event.seq, kind="x").state
    assert objections.state == full.state
    neighbours = tender_replay(tender=flow.pk, kind="objection", at=objections.events[0].event.seq).neighbours()
    assert neighbours == {"first": objections.events[0].event.seq, "previous": None,
                          "next": objections.events[1].event.seq, "last": objections.events[1].event.seq}


def test_unknown_tender_or_foreign_event_is_not_found(flow):
    from config.errors import NotFoundError

    with pytest.raises(NotFoundError):
        tender_replay(tender=999999)
    foreign = AuditEvent.objects.filter(action="user.created").first()
    with pytest.raises(NotFoundError):
        tender_replay(tender=flow.pk, at=foreign.seq)


# --- API and page -----------------------------------------------------------------------------

def test_api_returns_the_same_as_the_selector(flow, cast, api, make_user):
    seq = _seq_of(flow, "objection.raised")
    url = f"/api/v1/audit/tenders/{flow.pk}/replay"
    response = api.as_user(cast.supervisor).get(url, {"at": seq, "kind": "objection"})
    assert response.status_code == 200, response.content
    body = response.json()
    expected = tender_replay(tender=flow.pk, at=seq, kind="objection")
    assert body["at"] == seq and body["state"] == json.loads(json.dumps(expected.state))
    assert [e["action"] for e in body["events"]] == ["objection.raised", "objection.replied"]
    assert body["events"][0]["verification"] == {"ok": True, "status": "pending", "leaf": True, "link": True,
                                                 "inclusion": None, "problems": []}
    assert "events" not in api.get(url, {"events": "false"}).json()
    assert api.get(url, {"at": "x"}).status_code == 400
    assert api.get("/api/v1/audit/tenders/999999/replay").status_code == 404


@pytest.mark.parametrize("role", ["agent", "tenderer", "bidder", "expert", "platform_admin", None])
def test_api_is_for_supervisors_only(flow, api, make_user, role):
    url = f"/api/v1/audit/tenders/{flow.pk}/replay"
    assert api.get(url).status_code == 401
    user = make_user(role) if role else make_user()
    assert api.as_user(user).get(url).status_code == 403


def test_page_steps_and_shows_marks(flow, cast, client):
    checkpoints.checkpoint_create()
    target = _seq_of(flow, "question.answered")
    with guard_off() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor = %s WHERE seq = %s", ["999", target])
    client.force_login(cast.supervisor)
    url = f"/supervisor/tenders/{flow.pk}/replay/"
    response = client.get(url, {"at": _seq_of(flow, "objection.raised") + 1})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-state-status="suspended"' in html and "replay.js" in html
    assert html.count('aria-current="step"') == 1 and 'data-step="next"' in html
    assert "✗" in html and "✓" in html
    partial = client.get(url, {"at": target, "partial": "state"})
    assert partial.status_code == 200
    text = partial.content.decode()
    assert "<html" not in text and f'data-selected-seq="{target}"' in text and "differs: the event was altered" in text
    filtered = client.get(url, {"kind": "objection"}).content.decode()
    assert filtered.count('data-seq="') == 2
    assert client.get(url, {"at": "abc"}).status_code == 404
    assert client.get("/supervisor/tenders/999999/replay/").status_code == 404


@pytest.mark.parametrize("role", ["agent", "tenderer", "bidder", "expert", "platform_admin"])
def test_page_is_for_supervisors_only(flow, client, make_user, role):
    url = f"/supervisor/tenders/{flow.pk}/replay/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(make_user(role))
    assert client.get(url).status_code == 403


def test_bids_and_the_opening_are_rebuilt_from_the_log(opened, cast):
    from trading.models import Bid, Opening

    replay = tender_replay(tender=opened.pk)
    state = replay.state
    assert state["not_interpreted"] == [] and replay.failed == 0
    bids = {str(b.pk): b for b in Bid.objects.filter(tender=opened)}
    assert set(state["bids"]) == set(bids)
    for pk, bid in bids.items():
        rebuilt = state["bids"][pk]
        assert rebuilt["status"] == "decrypted" and rebuilt["envelope_sha256"] == bid.envelope_sha256
        assert rebuilt["readout"]["price"] == bid.opening.readout["price"] and rebuilt["files"] == 2
    assert summary(state)["bids"] == 3
    opening = Opening.objects.get(tender=opened)
    assert state["opening"]["state"] == "closed" and state["opening"]["record_sha256"] == opening.record_sha256
    assert state["opening"]["counts"] == {"signed_in": 3, "confirmed": 3}
    lot = opened.lots.get()
    assert state["opening_keys"][str(lot.pk)]["key_id"] == lot.opening_key.key_id
    assert state["status"] == opened.status == "evaluating"
    # as of the first submission: one sealed bid, a hash and no price
    first = tender_replay(tender=opened.pk, at=_seq_of(opened, "bid.submitted"))
    (sealed,) = first.state["bids"].values()
    assert sealed["status"] == "received" and "readout" not in sealed and sealed["bidder_hash"]
    assert cast.bidder_orgs[0].name not in json.dumps(first.state)


def test_evaluation_publicity_and_award_are_followed(make_world, fake, clock):
    from tests.trading.evaluation.helpers import concluded
    from trading.evaluation.services import award as award_services
    from trading.evaluation.services import publicity as pub
    from trading.services.scheduling import steps_run_due

    w = make_world()
    concluded(w, fake)
    publicity = pub.publicity_start(actor=w.agent, tender=w.tender)
    objection = pub.publicity_objection_raise(actor=w.bidders[3], tender=w.tender, text="Too low.")
    pub.publicity_objection_reply(actor=w.tenderer, objection=objection, reply="Explained.")
    clock.move_to(publicity.ends_at + timedelta(seconds=1))
    steps_run_due()
    award_services.award_publish(actor=w.agent, tender=w.tender)
    replay = tender_replay(tender=w.tender.pk)
    state = replay.state
    assert state["not_interpreted"] == [] and replay.failed == 0
    counts = state["evaluation"]["counts"]
    assert counts["candidate_publicity.started"] == 1 and counts["publicity_objection.raised"] == 1
    assert counts["publicity_objection.replied"] == 1 and counts["award.published"] == 1
    assert state["status"] == w.tender.status == "awarded"
    suspended = tender_replay(tender=w.tender.pk, at=_seq_of(w.tender, "publicity_objection.raised") + 1).state
    assert suspended["status"] == "suspended" and suspended["suspended_from"] == "publicity"


def test_a_held_checkpoint_catches_truncation_with_deleted_checkpoints(flow, cast, api, client):
    """Every checkpoint row deleted and the log cut back: the page alone has nothing to compare
    with, but the checkpoint the supervisor kept fails every event (page and API)."""
    held = checkpoints.checkpoint_create().note
    from audit.models import AuditEvent as Event

    last = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
    with guard_off("checkpoint") as cursor:
        cursor.execute("DELETE FROM audit_checkpoint")
    with guard_off() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq > %s", [last - 2])
    assert tender_replay(tender=flow.pk).failed == 0  # nothing left to compare with
    replay = tender_replay(tender=flow.pk, policy=trust_from_text(checkpoint=held))
    assert replay.failed == replay.total and not replay.checkpoint.held_ok
    assert "truncated" in replay.checkpoint.held[0]["problem"]
    body = api.as_user(cast.supervisor).get(f"/api/v1/audit/tenders/{flow.pk}/replay",
                                            {"checkpoint": held}).json()
    assert body["failed"] == body["total"] and body["checkpoint"]["held"][0]["ok"] is False
    client.force_login(cast.supervisor)
    html = client.get(f"/supervisor/tenders/{flow.pk}/replay/", {"checkpoint": held}).content.decode()
    assert "the log was truncated" in html and 'name="checkpoint"' in html


def test_a_held_checkpoint_the_log_extends_passes_and_a_forged_one_fails(flow):
    held = checkpoints.checkpoint_create().note
    replay = tender_replay(tender=flow.pk, policy=trust_from_text(checkpoint=held))
    assert replay.failed == 0 and replay.checkpoint.held_ok
    forged = held.replace(held.split("\n")[2], "A" * 43 + "=")
    bad = tender_replay(tender=flow.pk, policy=trust_from_text(checkpoint=forged))
    assert bad.failed == bad.total and "signature" in bad.checkpoint.held[0]["problem"]
