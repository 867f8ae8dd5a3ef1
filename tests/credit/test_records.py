"""Credit records: proposal, supervisor decision, publication, bars that end by themselves, appeal and
repair, the public query, and the replay of every decision from the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from config.errors import NotPermitted, RuleViolation, StateConflict
from credit import rules
from credit.models import CreditRecord, RecordStatus
from credit.replay import credit_replay_check
from credit.rules import RecordKind, Severity
from credit.selectors import records_public
from credit.services import (
    AccessBarred,
    access_check,
    credit_score,
    record_decide,
    record_propose,
    request_decide,
    request_submit,
)
from trading import clock as trading_clock
from trading.services.registrations import registration_create


def _published(cast, clock, org, kind=RecordKind.REFUSED_TO_SIGN, severity=None):
    seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    record = record_propose(kind=kind, organisation=org, facts="did not sign", evidence_seqs=[seq] if seq else [],
                            source_ref=f"test:{org.pk}:{kind}", at=clock.now())
    return record_decide(actor=cast.supervisor, record=record, publish=True, reason="facts checked",
                         severity=severity, at=clock.now())


def test_proposal_waits_for_a_supervisor_and_does_not_bar(cast, clock):
    org = cast.bidder_orgs[0]
    record = record_propose(kind=RecordKind.REFUSED_TO_SIGN, organisation=org, facts="did not sign",
                            at=clock.now())
    assert record.status == RecordStatus.PROPOSED and record.number.startswith("XY")
    access_check(org, "tender_registration", at=clock.now())  # a proposal bars nobody
    with pytest.raises(NotPermitted):
        record_decide(actor=cast.bidders[1], record=record, publish=True, reason="x")
    record = record_decide(actor=cast.supervisor, record=record, publish=False, reason="no evidence")
    assert record.status == RecordStatus.REJECTED
    with pytest.raises(StateConflict):
        record_decide(actor=cast.supervisor, record=record, publish=True, reason="again")
    assert credit_replay_check() == []


def test_evidence_links_audit_events(cast, clock):
    event = AuditEvent.objects.order_by("-seq").first()
    record = record_propose(kind=RecordKind.DEPOSIT_FORFEITED, organisation=cast.bidder_orgs[0], facts="f",
                            evidence_seqs=[event.seq])
    assert record.evidence == [{"seq": event.seq, "action": event.action, "object": event.object,
                                "hash": event.hash}]
    with pytest.raises(Exception, match="No audit event"):
        record_propose(kind=RecordKind.DEPOSIT_FORFEITED, organisation=cast.bidder_orgs[0], facts="f",
                       evidence_seqs=[10**9])


def test_barred_enterprise_refused_at_tender_registration_then_admitted_after_the_period(published, cast, clock):
    org = cast.bidder_orgs[0]
    record = _published(cast, clock, org)
    assert record.severity == Severity.SERIOUS and record.bar_until == record.published_from + timedelta(days=180)
    lot = published.lots.get()
    with pytest.raises(AccessBarred) as refused:
        registration_create(actor=cast.bidders[0], lot=lot)
    assert record.number in refused.value.message and refused.value.status == 403
    assert refused.value.code == "credit_barred"
    registration_create(actor=cast.bidders[1], lot=lot)  # others are not affected
    clock.move_to(record.bar_until + timedelta(seconds=1))  # the bar ends by itself: no job runs
    access_check(org, "tender_registration", at=trading_clock.now())


def test_api_registration_refusal_names_the_record(published, cast, clock, api):
    record = _published(cast, clock, cast.bidder_orgs[0])
    lot = published.lots.get()
    response = api.as_user(cast.bidders[0]).post(f"/api/v1/lots/{lot.pk}/registrations")
    assert response.status_code == 403, response.content
    body = response.json()["error"]
    assert body["code"] == "credit_barred" and record.number in body["message"]


def test_general_records_bar_only_when_repeated(cast, clock):
    org = cast.bidder_orgs[0]
    first = _published(cast, clock, org, kind=RecordKind.DEPOSIT_FORFEITED)
    assert first.bar_until is None
    access_check(org, "auction_bidding", at=clock.now())
    clock.advance(days=10)
    second = record_propose(kind=RecordKind.DEPOSIT_FORFEITED, organisation=org, facts="again",
                            source_ref="second", at=clock.now())
    second = record_decide(actor=cast.supervisor, record=second, publish=True, reason="ok", at=clock.now())
    assert second.bar_basis == "repeated"
    assert second.bar_until == second.published_from + timedelta(days=rules.REPEAT_BAR_DAYS)
    with pytest.raises(AccessBarred):
        access_check(org, "auction_bidding", at=clock.now())


def test_repaired_record_stops_counting(cast, clock, api):
    org = cast.bidder_orgs[0]
    record = _published(cast, clock, org, severity=Severity.SERIOUS)
    assert credit_score(org.pk, at=clock.now(), full_marks=5)["score"] == 2
    with pytest.raises(RuleViolation, match="Repair"):
        request_submit(actor=cast.bidders[0], record=record, kind="repair", text="rectified", at=clock.now())
    with pytest.raises(NotPermitted):
        request_submit(actor=cast.bidders[1], record=record, kind="appeal", text="not mine", at=clock.now())
    clock.advance(days=rules.REPAIR_AFTER_DAYS[Severity.SERIOUS])
    request = request_submit(actor=cast.bidders[0], record=record, kind="repair", text="rectified, trained staff",
                             at=clock.now())
    with pytest.raises(AccessBarred):  # still barred until decided (the bar lasts 180 days)
        access_check(org, "tender_registration", at=clock.now())
    request_decide(actor=cast.supervisor, request=request, grant=True, reason="commitment and proof received",
                   at=clock.now())
    record.refresh_from_db()
    assert record.status == RecordStatus.REPAIRED
    access_check(org, "tender_registration", at=clock.now())  # no longer counts, the bar ends with it
    with pytest.raises(AccessBarred):  # before the repair it did count (history is kept)
        access_check(org, "tender_registration", at=clock.now() - timedelta(days=1))
    assert credit_score(org.pk, at=clock.now(), full_marks=5)["score"] == 5
    assert not records_public(q=org.uscc, at=clock.now()).exists()  # off the publication
    assert credit_replay_check() == []


def test_appeal_granted_revokes(cast, clock):
    record = _published(cast, clock, cast.bidder_orgs[0])
    clock.advance(days=rules.APPEAL_DAYS + 1)
    with pytest.raises(RuleViolation, match="appeal"):
        request_submit(actor=cast.bidders[0], record=record, kind="appeal", text="wrong", at=clock.now())
    clock.move_to(clock.now() - timedelta(days=2))
    request = request_submit(actor=cast.bidders[0], record=record, kind="appeal", text="wrong", at=clock.now())
    request_decide(actor=cast.supervisor, request=request, grant=True, reason="the contract was signed")
    record.refresh_from_db()
    assert record.status == RecordStatus.REVOKED
    access_check(cast.bidder_orgs[0], "tender_registration", at=clock.now())


def test_public_query_by_name_or_uscc(cast, clock, api):
    org = cast.bidder_orgs[0]
    record = _published(cast, clock, org)
    hidden = record_propose(kind=RecordKind.COLLUSION, organisation=cast.bidder_orgs[1], facts="proposed only")
    for q in (org.uscc, org.name[:6], org.name.lower()):
        body = api.get("/api/v1/credit/records", {"q": q}).json()
        assert [r["number"] for r in body["results"]] == [record.number], q
    assert api.get(f"/api/v1/credit/records/{hidden.number}").status_code == 404
    detail = api.get(f"/api/v1/credit/records/{record.number}").json()
    assert detail["bar_until"] and detail["decisions"][-1]["action"] == "record_published"
    listed = api.as_user(cast.supervisor).get("/api/v1/credit/records", {"status": "proposed"}).json()
    assert [r["number"] for r in listed["results"]] == [hidden.number]


def test_api_decide_and_request(cast, clock, api):
    record = record_propose(kind=RecordKind.FALSE_DOCUMENTS, organisation=cast.bidder_orgs[0], facts="forged")
    assert api.as_user(cast.bidders[0]).post(f"/api/v1/credit/records/{record.number}/decide",
                                             {"publish": True, "reason": "x"}, format="json").status_code == 404
    r = api.as_user(cast.supervisor).post(f"/api/v1/credit/records/{record.number}/decide",
                                          {"publish": True, "reason": "checked", "severity": "grave"}, format="json")
    assert r.status_code == 200 and r.json()["severity"] == "grave", r.content
    r = api.as_user(cast.bidders[0]).post(f"/api/v1/credit/records/{record.number}/requests",
                                          {"kind": "appeal", "text": "genuine documents"}, format="json")
    assert r.status_code == 201, r.content
    r2 = api.as_user(cast.supervisor).post(f"/api/v1/credit/requests/{r.json()['id']}/decide",
                                           {"grant": False, "reason": "forgery confirmed"}, format="json")
    assert r2.status_code == 200 and r2.json()["status"] == "refused"
    assert api.as_user(cast.supervisor).post(f"/api/v1/credit/records/{record.number}/decide",
                                             {"publish": "maybe"}, format="json").status_code == 400


def test_every_decision_replays_from_the_audit_trail(cast, clock):
    a = _published(cast, clock, cast.bidder_orgs[0])
    b = record_propose(kind=RecordKind.EXPERT_NO_SHOW, expert_id=77, expert_name="专家甲", facts="absent")
    record_decide(actor=cast.supervisor, record=b, publish=False, reason="ill, certified")
    clock.advance(days=5)
    req = request_submit(actor=cast.bidders[0], record=a, kind="appeal", text="x", at=clock.now())
    request_decide(actor=cast.supervisor, request=req, grant=False, reason="no")
    assert credit_replay_check() == []
    # An operator edits the database: the replay shows it.
    CreditRecord.objects.filter(pk=a.pk).update(bar_until=None)
    problems = credit_replay_check()
    assert problems and a.number in problems[0] and "bar_until" in problems[0]


def test_supervisor_proposes_false_documents_through_the_api(cast, clock, api):
    event = AuditEvent.objects.order_by("-seq").first()
    body = {"kind": "false_documents", "organisation": cast.bidder_orgs[2].pk, "facts": "forged licence in bid 3",
            "evidence": [event.seq], "source_ref": "evaluation.evaluationsession:9"}
    assert api.as_user(cast.bidders[0]).post("/api/v1/credit/records", body, format="json").status_code == 403
    r = api.as_user(cast.supervisor).post("/api/v1/credit/records", body, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "proposed" and r.json()["evidence"][0]["seq"] == event.seq
    bad = dict(body, organisation=None)
    assert api.as_user(cast.supervisor).post("/api/v1/credit/records", bad, format="json").status_code == 400
    bad = dict(body, organisation=10**9)
    assert api.as_user(cast.supervisor).post("/api/v1/credit/records", bad, format="json").status_code == 400
    assert credit_replay_check() == []
