"""The auctions REST API: a trade through HTTP, idempotent bids, errors as JSON 4xx, confirmation JSON + PDF."""

from __future__ import annotations

from datetime import timedelta

import pytest

import sbe1
from auctions.models import CustodianShare
from auctions.reserve import seal_reserve
from auctions.rules import rules_for
from audit.signing import verify_receipt
from tests.auctions.conftest import enrol

pytestmark = pytest.mark.django_db


def test_trade_through_the_api(world, fake_clock, api):
    now = fake_clock.t
    starts = rules_for("land_listing").notice_to_start.after(now) + timedelta(hours=1)
    body = {"kind": "land_listing", "title": "Parcel A-3", "transferor": world.transferor.organisation_id,
            "start_price": "800000.00", "increment": "10000.00", "deposit_amount": "50000.00",
            "starts_at": starts.isoformat(), "listing_ends_at": (starts + timedelta(days=11)).isoformat()}
    assert api.as_user(world.buyers[0]).post("/api/v1/auctions", body, format="json").status_code == 403
    response = api.as_user(world.agent).post("/api/v1/auctions", body, format="json")
    assert response.status_code == 201, response.content
    trade = response.json()
    pid = trade["id"]
    # Publishing without a sealed reserve: refused, naming the rule.
    refused = api.as_user(world.agent).post(f"/api/v1/auctions/{pid}/publish", format="json")
    assert refused.status_code == 400 and "Art 8" in refused.json()["error"]["message"]
    sealed = seal_reserve(reserve="900000.00", trade=pid, opening_key=trade["opening_public_key"])
    bad = api.as_user(world.agent).post(f"/api/v1/auctions/{pid}/reserve", {"sealed": sealed}, format="json")
    assert bad.status_code == 403  # only the transferor seals its reserve
    ok = api.as_user(world.transferor).post(f"/api/v1/auctions/{pid}/reserve", {"sealed": sealed}, format="json")
    assert ok.status_code == 200 and ok.json()["reserve"] is None
    malformed = api.as_user(world.transferor).post(f"/api/v1/auctions/{pid}/reserve", {"sealed": {"v": 1}},
                                                   format="json")
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "reserve_format"
    assert api.as_user(world.agent).post(f"/api/v1/auctions/{pid}/publish", format="json").status_code == 200
    from auctions.models import Trade

    t = Trade.objects.get(public_id=pid)
    [buyer] = enrol(world, t, world.buyers[:1])
    fake_clock.set(t.starts_at + timedelta(seconds=1))
    def client():
        return api.as_user(world.buyers[0])

    mine = client().get(f"/api/v1/auctions/{pid}/my-application").json()
    assert mine["number"] == buyer.number and mine["may_bid"]
    first = client().post(f"/api/v1/auctions/{pid}/bids", {"amount": "800000.00"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == 201 and verify_receipt(first.json()["receipt"])
    again = client().post(f"/api/v1/auctions/{pid}/bids", {"amount": "800000.00"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="abc")
    assert again.status_code == 200 and again.json()["replayed"] and again.json()["seq"] == 1
    low = client().post(f"/api/v1/auctions/{pid}/bids", {"amount": "800001.00"}, format="json")
    assert low.status_code == 400 and low.json()["error"]["code"] == "bid_too_low"
    junk = client().post(f"/api/v1/auctions/{pid}/bids", {"amount": "lots"}, format="json")
    assert junk.status_code == 400
    # The agent sees the application without its number during the trade; the supervisor sees both.
    rows = api.as_user(world.agent).get(f"/api/v1/auctions/{pid}/applications").json()
    assert rows[0]["number"] is None
    rows = api.as_user(world.supervisor).get(f"/api/v1/auctions/{pid}/applications").json()
    assert rows[0]["number"] == buyer.number
    room = client().get(f"/api/v1/auctions/{pid}/room").json()
    assert room["state"]["holder"] == buyer.number and room["state"]["me"]["holding"]
    assert room["state"]["numbers"] is None
    events = client().get(f"/api/v1/auctions/{pid}/room/events?since=0").json()["events"]
    assert [e["kind"] for e in events].count("bid") == 1
    # End, shares through the API, confirmation.
    fake_clock.set(t.listing_ends_at + timedelta(seconds=1))
    for role in ("agent", "platform"):
        user, private = world.custodians[role]
        row = CustodianShare.objects.get(trade=t, custodian=user)
        share = sbe1.decrypt_share(row.container, private).to_json_bytes().decode()
        import json

        r = api.as_user(user).post(f"/api/v1/auctions/{pid}/shares", {"share": json.loads(share)}, format="json")
        assert r.status_code == 200, r.content
    detail = api.get(f"/api/v1/auctions/{pid}").json()
    assert detail["status"] == "not_sold" and detail["reserve"] == "900000.00"
    assert client().get(f"/api/v1/auctions/{pid}/confirmation").status_code == 404
    replay = api.as_user(world.supervisor).get(f"/api/v1/auctions/{pid}/replay").json()
    assert replay["ok"] and replay["price"] == "800000.00"
    assert api.as_user(world.buyers[0]).get(f"/api/v1/auctions/{pid}/replay").status_code == 403


def test_confirmation_json_and_pdf(world, fake_clock, api):
    from auctions.services.bidding import bid_place, trade_advance
    from tests.auctions.conftest import new_trade, release_shares

    trade = new_trade(world, reserve="800000.00")
    [buyer] = enrol(world, trade, world.buyers[:1])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyer, amount="850000.00")
    fake_clock.set(trade.listing_ends_at)
    trade = release_shares(world, trade_advance(trade=trade))
    assert trade.status == "sold"
    signed = api.as_user(world.buyers[0]).get(f"/api/v1/auctions/{trade.public_id}/confirmation").json()
    assert verify_receipt(signed) and signed["receipt"]["buyer"]["number"] == buyer.number
    pdf = api.as_user(world.buyers[0]).get(f"/api/v1/auctions/{trade.public_id}/confirmation.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert api.as_user(world.buyers[1]).get(f"/api/v1/auctions/{trade.public_id}/confirmation").status_code == 403
    published = api.as_user(world.agent).post(f"/api/v1/auctions/{trade.public_id}/result", format="json")
    assert published.status_code == 200
    results = api.get("/api/v1/auctions/results").json()
    assert results[0]["winner"]["number"] == buyer.number
