"""One tender from notice to contract through the API, on the test's clock (the `clock` fixture: it moves
only when the test moves it), with sandbox acceleration shortening the legal periods (a legal day is
0.1 s of that clock): notice → registration → deposits (signed bank
notifications) → keys and sealed bids → opening → expert draw and confirmations → evaluation
(comprehensive scoring, sealing checked on the way) → report signatures → candidate publicity with an
objection → award → contract → deposit refunds armed → OCDS export valid with zero errors →
the audit chain verifies.

Setup that is not part of a tender's life is done with services: user accounts, the expert pool, the
key custodians' keys (the opening key ceremony needs them when the tender is published).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

import sbe1
from accounts.tokens import token_issue
from audit.selectors import chain_verify
from tests.trading.custodians import make_custodians
from tests.trading.deposits.conftest import signed_post
from tests.trading.evaluation.real import expert_pool
from tests.trading.helpers import pdf
from tests.trading.ocds.validation import require_standard_zip
from tests.trading.sealed import SealedBidder, dek_of, seal, upload
from trading.deposits import bankmsg
from trading.ocds.validation import validate_package
from trading.services.scheduling import steps_run_due

ACCELERATION = 864_000  # one legal day = 0.1 s
PREFIX = "ocds-q7x2kd"
_txn = itertools.count(1)


def legal(days: float) -> timedelta:
    """A span of legal days under the acceleration."""
    return timedelta(days=days) / ACCELERATION


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:3000])
    return response.json() if response.content else None


def refused(response, status, code):
    assert response.status_code == status, (response.status_code, response.content[:2000])
    assert response.json()["error"]["code"] == code, response.json()
    return response.json()


@pytest.mark.django_db
@override_settings(SANDBOX_TIME_ACCELERATION=ACCELERATION, SANDBOX_ROOM_ACCELERATION=ACCELERATION,
                   OCDS_OCID_PREFIX=PREFIX,
                   BANK_WEBHOOK_SECRET="test-bank-secret", DEPOSIT_INTEREST_RATE=Decimal("0.0035"),
                   DEPOSIT_DAY_COUNT_BASIS=360)
def test_a_tender_from_notice_to_contract_through_the_api(clock, make_org, make_user, no_network, tmp_path,
                                                          settings):
    require_standard_zip()
    settings.MEDIA_ROOT = tmp_path / "media"

    def client(user=None):
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    tenderer_org, agent_org = make_org("Municipal Roads Bureau"), make_org("Huacheng Tendering Agency")
    agent_user = make_user("agent", org=agent_org)
    tenderer_user = make_user("tenderer", org=tenderer_org)
    supervisor_user = make_user("supervisor")
    make_custodians(make_user, agent_org)
    bidder_users = [make_user("bidder", org=make_org(name)) for name in
                    ("Alpha Construction", "Beta Engineering", "Gamma Builders")]
    experts = expert_pool(make_user)
    agent, tenderer, supervisor, public = client(agent_user), client(tenderer_user), client(supervisor_user), client()
    bidders = [client(u) for u in bidder_users]

    # 1. Notice: draft, criteria (comprehensive scoring), lot, document, publish. 20 days = 2 s.
    deadline = clock.now() + timedelta(seconds=3)
    tender = ok(agent.post("/api/v1/tenders", {
        "title": "Ring road resurfacing", "tenderer": tenderer_org.pk, "procedure_type": "works",
        "evaluation_method": "comprehensive_scoring", "readout_items": ["duration_days"],
        "bid_deadline": deadline.isoformat()}, format="json"), 201)
    tid = tender["id"]
    criteria = ok(agent.put(f"/api/v1/tenders/{tid}/evaluation-criteria", {"criteria": [
        {"name": "Price", "kind": "price", "max_points": "30"},
        {"name": "Technical proposal", "max_points": "50"},
        {"name": "Commercial terms", "max_points": "20"}]}, format="json"))
    tech, comm = criteria[1]["id"], criteria[2]["id"]
    lot = ok(agent.post(f"/api/v1/tenders/{tid}/lots", {"title": "Lot 1", "estimated_price": "1500000.00",
                                                       "deposit_amount": "20000.00"}, format="json"), 201)
    ok(agent.post(f"/api/v1/tenders/{tid}/documents", {"file": pdf()}, format="multipart"), 201)
    ok(agent.post(f"/api/v1/tenders/{tid}/publish", {}, format="json"))
    refused(agent.put(f"/api/v1/tenders/{tid}/evaluation-criteria", {"criteria": [
        {"name": "Quality", "max_points": "100"}]}, format="json"), 409, "criteria_fixed")

    # 2. Registration, deposits paid from the basic accounts (signed bank notifications), keys, bids.
    registrations = []
    for user, c in zip(bidder_users, bidders, strict=True):
        created = ok(c.post(f"/api/v1/lots/{lot['id']}/registrations"), 201)
        registrations.append(created)
        org = user.organisation
        transfer = bankmsg.Transfer(
            kind="arrival", txn_id=f"EVAL{next(_txn):06d}",
            virtual_account=created["deposit_instructions"]["virtual_account"]["account_number"],
            amount=Decimal("20000.00"), booked_at=clock.now() - timedelta(milliseconds=1),
            counterparty_account=org.basic_account_number, counterparty_name=org.basic_account_name,
            counterparty_bank=org.basic_account_bank, reference="", status="executed")
        assert signed_post(public, bankmsg.notification_body(transfer)).status_code in (200, 201, 202)
    sealed = []
    for user, c in zip(bidder_users, bidders, strict=True):
        key = sbe1.generate_private_key()
        ok(c.post("/api/v1/keys", {"public_key": sbe1.spki_b64(key), "holder": "organisation"}, format="json"),
           201)
        token_key = token_issue(user=user)
        sealed.append(SealedBidder(user=user, org=user.organisation, key=key, token=token_key))
    from trading.models import Lot

    lot_obj = Lot.objects.get(pk=lot["id"])
    prices = ["1000000.00", "1200000.00", "1100000.00"]
    bids = []
    for b, price in zip(sealed, prices, strict=True):
        envelope = seal(lot_obj, b, price=price)
        response = upload(lot_obj, b, envelope)
        assert response.status_code == 201, response.content
        bids.append(response.json())
        b.envelopes[response.json()["id"]] = envelope

    # 3. The expert draw (agent), the calls answered by the experts (each through their inbox).
    draw = ok(agent.post("/api/v1/draws/", {
        "lot": lot["id"], "evaluation_start": (deadline + timedelta(minutes=5)).isoformat(),
        "evaluation_end": (deadline + timedelta(hours=5)).isoformat(), "committee_size": 5, "place": "评标室 2",
        "lines": [{"specialty": "A0201", "count": 3, "reserves": 1},
                  {"specialty": "D0101", "count": 2, "reserves": 1}]}, format="json"), 201)
    expert_clients = {e.user.pk: client(e.user) for e in experts}
    panel = []
    for e in experts:
        inbox = ok(expert_clients[e.user.pk].get("/api/v1/experts/me/assignments"))["results"]
        for call in inbox:
            if call["status"] == "notified":
                ok(expert_clients[e.user.pk].post(f"/api/v1/experts/assignments/{call['id']}/accept"))
                panel.append(e.user)
    assert len(panel) == 5
    assert ok(agent.get(f"/api/v1/draws/{draw['id']}"))["status"] == "complete"

    # 4. The deadline (the beat task's sweep) and the opening, through the room's commands.
    clock.move_to(deadline + timedelta(seconds=1))
    steps_run_due()
    room = f"/api/v1/tenders/{tid}/opening/commands"
    for c in bidders:
        ok(c.post(room, {"type": "sign_in"}, format="json"))
    ok(agent.post(room, {"type": "advance"}, format="json"))
    for b, c, bid in zip(sealed, bidders, bids, strict=True):
        ok(c.post(room, {"type": "release_dek", "bid": bid["id"], "dek": dek_of(b, b.envelopes[bid["id"]])},
                  format="json"))
    for c in bidders:
        ok(c.post(room, {"type": "confirm"}, format="json"))
    ok(agent.post(room, {"type": "advance"}, format="json"))
    assert ok(public.get(f"/api/v1/tenders/{tid}"))["status"] == "evaluating"

    # 5. The evaluation: the agent opens it; the drawn experts sign in (the reveal), declare, score.
    session = ok(agent.post(f"/api/v1/lots/{lot['id']}/evaluation"), 201)
    sid = session["id"]
    url = f"/api/v1/evaluation/sessions/{sid}"
    clock.advance(minutes=5)
    scores = {0: ("40", "15"), 1: ("45", "18"), 2: ("42", "16")}  # (technical, commercial) per bidder
    members = [expert_clients[u.pk] for u in panel]
    for i, c in enumerate(members):
        assert [s["id"] for s in ok(c.get("/api/v1/evaluation/sessions"))["results"]] == [sid]
        signed_in = ok(c.post(f"{url}/sign-in"))
        assert signed_in["member"]["seat"] in range(1, 6)
        refused(c.get(f"{url}/bids"), 403, "sealed")  # declaration first
        ok(c.post(f"{url}/declaration", {"no_conflict": True}, format="json"))
        evaluation_bids = ok(c.get(f"{url}/bids"))
        by_bidder = {b["bidder"]: b["id"] for b in evaluation_bids}
        assert sorted(b["price"] for b in evaluation_bids) == sorted(prices)
        marks = [{"bid": by_bidder[u.organisation_id], "passed": True} for u in bidder_users]
        ok(c.put(f"{url}/sheet/marks", {"marks": marks}, format="json"))
        points = []
        for j, u in enumerate(bidder_users):
            points += [{"bid": by_bidder[u.organisation_id], "criterion": tech, "points": scores[j][0]},
                       {"bid": by_bidder[u.organisation_id], "criterion": comm, "points": scores[j][1]}]
        ok(c.put(f"{url}/sheet/scores", {"scores": points}, format="json"))
        # Sealing: nobody but supervisors sees the sheets before submitting.
        refused(c.get(f"{url}/sheets"), 403, "sealed")
        refused(agent.get(f"{url}/sheets"), 403, "sealed")
        refused(bidders[0].get(f"{url}/sheets"), 404, "not_found")  # bidders do not even see the session
        assert len(ok(supervisor.get(f"{url}/sheets"))) == i + 1
        submitted = ok(c.post(f"{url}/sheet/submit"), 201)
        assert submitted["receipt"]["receipt"]["sheet_sha256"] == submitted["sha256"]
        assert len(ok(c.get(f"{url}/sheets"))) == i + 1  # the submitted sheets of the round, own included
        if i < 4:
            assert submitted["report"] is None
    report_id = submitted["report"]
    report = ok(members[0].get(f"/api/v1/evaluation/reports/{report_id}"))
    assert report["level"] == "full" and report["status"] == "signing"
    ranking = [(r["bidder"], r["price_score"], r["scored_mean"], r["score"]) for r in report["content"]["ranking"]]
    # By hand: price scores 30.00 (1.0M), 25.00 (1.2M), 27.27 (1.1M); means 55, 63, 58 → 85.00, 88.00, 85.27.
    orgs = [u.organisation_id for u in bidder_users]
    assert ranking == [(orgs[1], "25.00", "63.00", "88.00"), (orgs[2], "27.27", "58.00", "85.27"),
                       (orgs[0], "30.00", "55.00", "85.00")]
    refused(public.get(f"/api/v1/evaluation/reports/{report_id}"), 403, "sealed")
    for c in members:
        ok(c.post(f"/api/v1/evaluation/reports/{report_id}/sign", {"agrees": True}, format="json"), 201)
    summary = ok(agent.get(f"/api/v1/evaluation/reports/{report_id}"))
    assert summary["level"] == "summary" and summary["status"] == "final"
    assert all("member_totals" not in r for r in summary["content"]["ranking"])

    # 6. Candidate publicity (3 days = 0.3 s) with an objection answered within 3 days; then the award.
    clock.advance(legal(1))
    publicity = ok(agent.post(f"/api/v1/tenders/{tid}/candidate-publicity", {}, format="json"), 201)
    assert [c["bidder"] for c in publicity["content"]["lots"][0]["candidates"]] == [orgs[1], orgs[2], orgs[0]]
    public_report = ok(public.get(f"/api/v1/evaluation/reports/{report_id}"))
    assert public_report["level"] == "public" and "ranking" not in public_report["content"]
    clock.advance(legal(1))
    objection = ok(bidders[0].post(f"/api/v1/tenders/{tid}/publicity-objections",
                                   {"text": "Our technical proposal was under-scored."}, format="json"), 201)
    assert ok(public.get(f"/api/v1/tenders/{tid}"))["status"] == "suspended"
    refused(agent.post(f"/api/v1/tenders/{tid}/award", {}, format="json"), 400, "objection_pending")
    clock.advance(legal(1))
    ok(tenderer.post(f"/api/v1/publicity-objections/{objection['id']}/reply",
                     {"reply": "The scores follow the published criteria.", "upheld": False}, format="json"))
    refused(agent.post(f"/api/v1/tenders/{tid}/award", {}, format="json"), 400, "publicity_running")
    clock.move_to(timezone.datetime.fromisoformat(publicity["ends_at"]) + timedelta(seconds=1))
    steps_run_due()
    awards = ok(agent.post(f"/api/v1/tenders/{tid}/award", {}, format="json"), 201)
    assert awards[0]["winner"] == orgs[1] and awards[0]["price"] == "1200000.00"
    letter = ok(bidders[1].get(f"/api/v1/awards/{awards[0]['id']}"))
    assert letter["letter"]["receipt"]["winner"] == orgs[1]

    # 7. The contract within 30 days; its date arms the deposit refunds (5 days, 实施条例 Art 57).
    clock.advance(legal(10))
    signed_at = clock.now() - legal(1)
    refused(tenderer.post(f"/api/v1/awards/{awards[0]['id']}/contract",
                          {"signed_at": signed_at.isoformat(), "amount": "1100000.00"}, format="json"),
            400, "contract_price")
    contract = ok(tenderer.post(f"/api/v1/awards/{awards[0]['id']}/contract",
                                {"signed_at": signed_at.isoformat(), "document_sha256": "cd" * 32}, format="json"),
                  201)
    assert contract["late"] is False and ok(public.get(f"/api/v1/tenders/{tid}"))["status"] == "contracted"
    from trading.models import DepositAccount

    accounts = DepositAccount.objects.filter(tender_id=tid)
    assert {(a.refund_trigger, a.refund_deadline) for a in accounts} == {
        ("contract", signed_at + legal(5))}

    # 8. Open data: the release package and the record validate against OCDS 1.1.5 with zero errors.
    code = tender["code"]
    package = ok(public.get("/api/v1/ocds/releases", {"tender": code}))
    assert [r["tag"] for r in package["releases"]] == [["tender"], ["award"], ["contract"]]
    assert package["releases"][0]["tender"]["numberOfTenderers"] == 3
    result = validate_package(package)
    assert result.ok and result.validation_errors == [], result.problems()
    record = ok(public.get(f"/api/v1/ocds/records/{PREFIX}-{code}"))
    assert record["records"][0]["compiledRelease"]["contracts"][0]["value"]["amount"] == 1200000
    result = validate_package(record)
    assert result.ok and result.validation_errors == [], result.problems()

    # 9. The audit chain holds every step and verifies.
    from audit.models import AuditEvent

    actions = set(AuditEvent.objects.filter(data__tender=tid).values_list("action", flat=True))
    assert {"evaluation.opened", "evaluation.member_signed_in", "evaluation.sheet_submitted",
            "evaluation_report.finalized", "candidate_publicity.started", "publicity_objection.raised",
            "publicity_objection.replied", "award.published", "contract.signed", "deposit_refunds.requested",
            "expert_panel.revealed", "opening.record_published"} <= actions
    assert chain_verify().ok
    call_command("audit", "verify", "--no-progress")
