"""The whole fixed-price procedure through the API: notice, registration with documents, deposits,
qualification review with reasons and an objection, the drawing, a lapse (deposit forfeited, record
proposed, next reserve called, supervision warnings), confirmation, publicity, contract, refunds,
open data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from credit.models import CreditRecord, RecordStatus
from credit.rules import RecordKind
from smallworks.models import Entry, Pick, PickStatus, Project, ProjectStatus
from tests.smallworks.conftest import document, pay
from trading.models import DepositAccount
from trading.services.scheduling import steps_run_due


def test_notice_price_rule(fp, make_project, api):
    r = api.as_user(fp.agent).post("/api/v1/fixed-price/projects", {
        "tenderer": fp.tenderer_org.pk, "title": "Too big", "contract_price": "2000000.00",
        "qualification_conditions": ["licence"], "registration_ends_at": "2030-01-01T00:00:00Z",
        "drawing_at": "2030-01-02T00:00:00Z"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "price_limit"
    assert "2,000,000" in r.json()["error"]["message"] and "Shifang" in r.json()["error"]["message"]
    assert api.as_user(fp.bidders[0]).post("/api/v1/fixed-price/projects", {}, format="json").status_code == 403


def test_whole_procedure_through_the_api(fp, clock, make_project, api, settings):
    project = make_project(publish=False)
    pid = project.public_id
    base = f"/api/v1/fixed-price/projects/{pid}"
    assert api.get(base).status_code == 404  # a draft is not public
    assert api.as_user(fp.agent).post(f"{base}/publish").json()["status"] == "registration"
    api.force_authenticate(None)
    assert api.get(base).json()["contract_price"] == "1500000.00"

    # Registration with documents (multipart); the deposit instructions come back.
    entries = []
    for i, bidder in enumerate(fp.bidders):
        r = api.as_user(bidder).post(f"{base}/entries", {"documents": [document(f"licence{i}.pdf")],
                                                         "relation_declared": ""}, format="multipart")
        assert r.status_code == 201, r.content
        assert Decimal(r.json()["deposit_instructions"]["amount"]) == Decimal("20000.00")
        entries.append(Entry.objects.get(pk=r.json()["entry"]["id"]))
    r = api.as_user(fp.bidders[0]).post(f"{base}/entries", {"documents": [document()]}, format="multipart")
    assert r.status_code == 409
    r = api.as_user(fp.bidders[0]).post(f"{base}/entries", {}, format="multipart")
    assert r.status_code == 400
    api.force_authenticate(None)
    assert api.get(f"{base}/entries").status_code == 404  # entries are public with the result only
    for e in entries[:4]:
        pay(api, e)  # the fifth never pays

    clock.advance(days=5, minutes=1)
    agent = api.as_user(fp.agent)
    for e in entries[:4]:
        r = agent.post(f"/api/v1/fixed-price/entries/{e.pk}/review",
                       {"passed": True, "reasons": "licence class 3, permit valid"}, format="json")
        assert r.status_code == 200
    r = agent.post(f"/api/v1/fixed-price/entries/{entries[4].pk}/review", {"passed": True, "reasons": "ok"},
                   format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "deposit_missing"
    assert agent.post(f"/api/v1/fixed-price/entries/{entries[4].pk}/review",
                      {"passed": False, "reasons": "deposit not received"}, format="json").status_code == 200
    assert agent.post(f"{base}/review/publish").json()["status"] == "reviewed"
    api.force_authenticate(None)
    results = {e["organisation"]: (e["qualification"], e["reasons"]) for e in api.get(f"{base}/entries").json()}
    assert results[fp.orgs[4].pk] == ("failed", "deposit not received")

    # An objection by the failed enterprise, answered (not upheld); the drawing waits for both.
    r = api.as_user(fp.bidders[4]).post(f"{base}/objections", {"text": "we paid"}, format="json")
    assert r.status_code == 201
    clock.advance(days=4)
    assert api.as_user(fp.agent).post(f"{base}/drawing").json()["error"]["code"] == "objections_open"
    assert api.as_user(fp.agent).post(f"/api/v1/fixed-price/objections/{r.json()['id']}/reply",
                                      {"reply": "no arrival from your basic account", "upheld": False},
                                      format="json").status_code == 200

    # The drawing.
    r = api.as_user(fp.agent).post(f"{base}/drawing")
    assert r.status_code == 201, r.content
    picks = r.json()
    assert [p["position"] for p in picks] == [0, 1, 2]
    assert picks[0]["status"] == "called" and {p["status"] for p in picks[1:]} == {"waiting"}
    assert {p["organisation"] for p in picks} <= {o.pk for o in fp.orgs[:4]}
    record = api.get(f"{base}/drawing").json()
    assert [p["organisation"] for p in record["pool"]] == sorted(o.pk for o in fp.orgs[:4])
    assert api.as_user(fp.supervisor).get(f"{base}/exclusions").json() == []
    api.force_authenticate(None)
    assert api.get(f"{base}/exclusions").status_code in (401, 403, 404)

    # Half the signing period: a supervision warning. The period ends: lapse.
    first = Pick.objects.get(pk=picks[0]["id"])
    clock.advance(days=3)
    steps_run_due()
    warnings = api.as_user(fp.supervisor).get("/api/v1/fixed-price/warnings").json()
    assert [w["kind"] for w in warnings] == ["late_signature"]
    clock.advance(days=2, minutes=1)
    steps_run_due()
    first.refresh_from_db()
    assert first.status == PickStatus.LAPSED
    account = DepositAccount.objects.get(registration__bidder=first.organisation, tender=project.carrier)
    assert account.forfeited_at is not None and account.forfeited_total == Decimal("20000.00")
    proposed = CreditRecord.objects.get(organisation=first.organisation)
    assert proposed.kind == RecordKind.REFUSED_TO_SIGN and proposed.status == RecordStatus.PROPOSED
    assert AuditEvent.objects.get(seq=proposed.evidence[0]["seq"]).action == "deposit.forfeited"
    second = Pick.objects.get(pk=picks[1]["id"])
    assert second.status == PickStatus.CALLED
    kinds = [w["kind"] for w in api.as_user(fp.supervisor).get("/api/v1/fixed-price/warnings").json()]
    assert "signature_lapsed" in kinds

    # Somebody else cannot confirm; the reserve confirms.
    other = next(b for b in fp.bidders if b.organisation_id != second.organisation_id)
    assert api.as_user(other).post(f"/api/v1/fixed-price/picks/{second.pk}/confirm").status_code == 403
    bidder = next(b for b in fp.bidders if b.organisation_id == second.organisation_id)
    r = api.as_user(bidder).post(f"/api/v1/fixed-price/picks/{second.pk}/confirm")
    assert r.status_code == 200 and r.json()["status"] == "signed"
    assert Pick.objects.get(pk=picks[2]["id"]).status == PickStatus.RELEASED
    project.refresh_from_db()
    assert project.status == ProjectStatus.PUBLICITY and project.contractor_id == second.organisation_id
    assert api.as_user(fp.agent).post(f"{base}/contract").json()["error"]["code"] == "publicity"
    clock.advance(days=3, minutes=1)
    assert api.as_user(fp.agent).post(f"{base}/contract").json()["status"] == "contracted"
    armed = DepositAccount.objects.filter(tender=project.carrier, refund_trigger="contract")
    assert armed.count() == 3 and not armed.filter(pk=account.pk).exists()  # the forfeited one is not refunded

    api.force_authenticate(None)
    package = api.get(f"{base}/ocds").json()
    release = package["releases"][0]
    assert release["tag"] == ["award", "contract"]
    assert release["awards"][0]["suppliers"][0]["name"] == second.organisation.name
    assert release["contracts"][0]["value"] == {"amount": 1500000, "currency": "CNY"}  # a JSON number (OCDS)
    assert api.as_user(fp.agent).post(f"{base}/complete").json()["status"] == "completed"


def test_refusal_takes_the_next_reserve_and_pool_continues(fp, clock, reviewed):
    from smallworks.services import drawing_start, pick_refuse

    project = reviewed(reserves=0, deposit=Decimal("0"))
    drawing = drawing_start(actor=fp.agent, project=project)
    seen = []
    for _ in range(5):
        pick = drawing.picks.get(status=PickStatus.CALLED)
        seen.append(pick.organisation_id)
        user = next(b for b in fp.bidders if b.organisation_id == pick.organisation_id)
        pick_refuse(actor=user, pick=pick)
        if Project.objects.get(pk=project.pk).status == ProjectStatus.FAILED:
            break
    assert sorted(seen) == sorted(o.pk for o in fp.orgs)  # the stream continued to the end of the pool
    assert Project.objects.get(pk=project.pk).failed_reason == "no reserve left to sign"
    assert CreditRecord.objects.filter(kind=RecordKind.REFUSED_TO_SIGN).count() == 5


@pytest.mark.parametrize("cap", [1])
def test_exclusions_with_reasons(fp, clock, reviewed, api, settings, cap):
    from credit.services import record_decide, record_propose
    from smallworks.services import drawing_start

    settings.SMALLWORKS_UNFINISHED_CAP = cap
    busy = reviewed(deposit=Decimal("0"))
    drawing_start(actor=fp.agent, project=busy)  # one enterprise is now called in `busy`
    called = busy.drawing.picks.get(status=PickStatus.CALLED).organisation
    project = reviewed(deposit=Decimal("0"))
    barred = next(o for o in fp.orgs if o != called)
    record = record_propose(kind=RecordKind.COLLUSION, organisation=barred, facts="confirmed", at=clock.now())
    record_decide(actor=fp.supervisor, record=record, publish=True, reason="confirmed", at=clock.now())
    related = Entry.objects.get(project=project, organisation=next(o for o in fp.orgs if o not in (called, barred)))
    Entry.objects.filter(pk=related.pk).update(relation_found="the tenderer's director is its shareholder")
    drawing = drawing_start(actor=fp.agent, project=project)
    reasons = {x["organisation"]: x for x in drawing.excluded}
    assert reasons[called.pk]["reason"] == "unfinished_cap"
    assert reasons[barred.pk]["reason"] == "credit_barred" and record.number in reasons[barred.pk]["detail"]
    assert reasons[related.organisation_id]["reason"] == "tenderer_relation"
    assert drawing.pool_size == 2
    seen = api.as_user(fp.supervisor).get(f"/api/v1/fixed-price/projects/{project.public_id}/exclusions").json()
    assert {x["reason"] for x in seen} == {"unfinished_cap", "credit_barred", "tenderer_relation"}


def test_late_signature_on_the_supervision_dashboard(fp, clock, reviewed):
    from smallworks.services import drawing_start
    from supervision.live import RED, YELLOW, supervision_warnings

    project = reviewed(deposit=Decimal("0"))
    drawing = drawing_start(actor=fp.agent, project=project)
    pick = drawing.picks.get(status=PickStatus.CALLED)

    def mine():
        return [w for w in supervision_warnings(now=clock.now()) if w.kind == "fixed_price_signature"]

    assert mine() == []
    clock.advance(days=3)
    assert [(w.level, w.tender_code) for w in mine()] == [(YELLOW, project.code)]
    clock.advance(days=2, minutes=1)
    assert [w.level for w in mine()] == [RED] and pick.organisation.name in mine()[0].detail
