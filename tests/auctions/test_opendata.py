"""Open data of auction results: OCDS 1.1 release packages that validate offline against the vendored 1.1.5
schema (libcoveocds, every additional check), sealed until the end, served anonymously once the result is
published (docs/ocds.md, "Auctions"; docs/auctions.md, "Open data")."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml
from django.test import Client, override_settings

from auctions.models import Buyer, TradeStatus
from auctions.opendata import results_package, trade_release
from auctions.services.bidding import bid_place, trade_advance
from auctions.services.ending import result_publish
from auctions.services.trades import trade_relist
from tests.auctions.conftest import enrol, new_trade, release_shares
from tests.trading.ocds.validation import offline, require_standard_zip
from trading.ocds.validation import validate_package

pytestmark = pytest.mark.django_db
PREFIX = "ocds-7tr4de"


def _valid(package: dict) -> None:
    require_standard_zip()
    with offline():
        result = validate_package(json.loads(json.dumps(package)))
    assert result.ok, result.problems()


def _sold(world, fake_clock, *, publish: bool = True):
    trade = new_trade(world)
    buyers = enrol(world, trade, world.buyers[:3])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="900000.00")
    bid_place(actor=world.buyers[1], buyer=buyers[1], amount="1150000.00")
    fake_clock.set(trade.listing_ends_at + timedelta(seconds=1))
    trade = release_shares(world, trade_advance(trade=trade))
    assert trade.status == TradeStatus.SOLD
    if publish:
        trade = result_publish(actor=world.agent, trade=trade)
    return trade, buyers


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_a_sold_trade_is_a_valid_ocds_release_served_anonymously(world, fake_clock):
    trade, buyers = _sold(world, fake_clock)
    response = Client().get(f"/api/v1/auctions/{trade.public_id}/ocds")
    assert response.status_code == 200, response.content
    package = response.json()
    _valid(package)
    assert package["version"] == "1.1" and "extensions" not in package
    [release] = package["releases"]
    assert release["ocid"] == f"{PREFIX}-{trade.code}" and release["tag"] == ["award"]
    assert release["id"].startswith(f"{PREFIX}-{trade.code}-result-")
    roles = {p["name"]: p["roles"] for p in release["parties"]}
    winner = buyers[1].organisation.name
    assert roles == {"Land Bureau": ["buyer"], "Agent Co": ["procuringEntity"], winner: ["tenderer", "supplier"]}
    assert release["buyer"]["name"] == "Land Bureau"
    tender = release["tender"]
    assert tender["status"] == "complete" and tender["value"] == {"amount": -800000, "currency": "CNY"}
    assert tender["submissionMethod"] == ["electronicAuction"] and tender["procurementMethod"] == "open"
    assert "1,000,000.00 CNY" in tender["awardCriteriaDetails"]  # the reserve, unsealed at the end
    [award] = release["awards"]
    assert award["status"] == "active" and award["value"] == {"amount": -1150000, "currency": "CNY"}
    assert award["suppliers"] == [{"id": f"CN-USCC-{buyers[1].organisation.uscc}", "name": winner}]
    assert "2 valid bids" in award["description"] and buyers[1].number in award["description"]
    # The same as the public result shows, no more: no loser, no other number, no deposit, no bid list.
    text = json.dumps(package, ensure_ascii=False)
    for loser in (buyers[0], buyers[2]):
        assert loser.organisation.name not in text and loser.number not in text and loser.deposit_account not in text
    assert "bids" not in release and "contactPoint" not in text and "address" not in text


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_nothing_is_served_before_the_result_is_published_and_nothing_sealed_is_mapped(world, fake_clock, api):
    trade = new_trade(world)
    buyers = enrol(world, trade, world.buyers[:3])
    url = f"/api/v1/auctions/{trade.public_id}/ocds"
    assert Client().get(url).status_code == 404
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="1100000.00")
    # During the trade: the notice only — as every role would see it, nothing sealed.
    release = trade_release(trade.__class__.objects.get(pk=trade.pk))
    text = json.dumps(release, ensure_ascii=False)
    assert release["tag"] == ["tender"] and "awards" not in release and release["tender"]["status"] == "active"
    assert "Reserve price (unsealed" not in text and "1,000,000.00" not in text and "1000000" not in text
    assert "1100000" not in text and "1,100,000" not in text  # nor the bids
    for b in buyers:
        assert b.organisation.name not in text and b.number not in text
    assert {p["roles"][0] for p in release["parties"]} == {"buyer", "procuringEntity"}
    _valid(results_package([trade], uri="https://example.gov.cn/x"))
    for user in (None, world.agent, world.supervisor, world.transferor, world.admin):
        client = api.as_user(user) if user else Client()
        assert client.get(url).status_code == 404
    fake_clock.set(trade.listing_ends_at + timedelta(seconds=1))
    trade = release_shares(world, trade_advance(trade=trade))
    assert trade.status == TradeStatus.SOLD
    assert Client().get(url).status_code == 404  # decided, result not published yet
    assert Client().get("/api/v1/auctions/ocds").json()["releases"] == []
    result_publish(actor=world.agent, trade=trade)
    assert Client().get(url).status_code == 200
    assert Client().get(f"/api/v1/auctions/{'0' * 8}-0000-4000-8000-{'0' * 12}/ocds").status_code == 404


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_not_sold_and_relisted_trades_and_the_results_package(world, fake_clock):
    trade = new_trade(world, reserve="2000000.00")
    buyers = enrol(world, trade, world.buyers[:2])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="900000.00")
    fake_clock.set(trade.listing_ends_at)
    trade = release_shares(world, trade_advance(trade=trade))
    assert trade.status == TradeStatus.NOT_SOLD
    trade = result_publish(actor=world.agent, trade=trade)
    relisted = trade_relist(actor=world.agent, trade=trade, start_price="700000.00",
                            starts_at=fake_clock.t + timedelta(days=25),
                            listing_ends_at=fake_clock.t + timedelta(days=40))
    [release] = Client().get(f"/api/v1/auctions/{trade.public_id}/ocds").json()["releases"]
    assert release["tender"]["status"] == "unsuccessful"
    [award] = release["awards"]
    assert award["status"] == "unsuccessful" and "suppliers" not in award and "value" not in award
    assert "below the reserve" in award["description"] and "2,000,000.00 CNY" in award["description"]
    assert buyers[0].organisation.name not in json.dumps(release, ensure_ascii=False)
    # The relisting refers to the unsuccessful process it follows.
    relisted.refresh_from_db()
    later = trade_release(relisted)
    assert later["relatedProcesses"][0]["identifier"] == f"{PREFIX}-{trade.code}"
    assert later["relatedProcesses"][0]["relationship"] == ["unsuccessfulProcess"]
    package = results_package([relisted], uri="https://example.gov.cn/x")
    _valid(package)
    # The list: every published result, nothing else.
    sold, _ = _sold(world, fake_clock)
    _unpublished, _ = _sold(world, fake_clock, publish=False)
    listed = Client().get("/api/v1/auctions/ocds").json()
    assert {r["ocid"] for r in listed["releases"]} == {f"{PREFIX}-{trade.code}", f"{PREFIX}-{sold.code}"}
    _valid(listed)
    assert Buyer.objects.filter(trade=trade).count() == 2


def test_the_placeholder_prefix_is_the_only_finding_and_the_schema_documents_the_responses(world, fake_clock):
    trade, _ = _sold(world, fake_clock)
    package = Client().get(f"/api/v1/auctions/{trade.public_id}/ocds").json()
    require_standard_zip()
    with offline():
        strict = validate_package(package)
        relaxed = validate_package(package, allow_placeholder_prefix=True)
    assert set(strict.conformance_errors) == {"ocds_prefixes_bad_format"} and relaxed.ok, relaxed.problems()
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    for path in ("/api/v1/auctions/{id}/ocds", "/api/v1/auctions/ocds"):
        get = schema["paths"][path]["get"]
        assert get["security"] == [{}] or get.get("security") is None or {} in get["security"]
        ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(package) <= set(body["properties"]) and set(body["required"]) <= set(package)
        rel = schema["components"]["schemas"][body["properties"]["releases"]["items"]["$ref"].rsplit("/", 1)[1]]
        assert set(package["releases"][0]) <= set(rel["properties"]) and set(rel["required"]) <= set(
            package["releases"][0])
    assert "404" in schema["paths"]["/api/v1/auctions/{id}/ocds"]["get"]["responses"]


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_a_stopped_auction_is_an_unsuccessful_process(world, fake_clock):
    trade = new_trade(world, kind="land_auction")
    enrol(world, trade, world.buyers[:2])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.STOPPED
    result_publish(actor=world.agent, trade=trade)
    package = Client().get(f"/api/v1/auctions/{trade.public_id}/ocds").json()
    _valid(package)
    [release] = package["releases"]
    assert release["tender"]["status"] == "unsuccessful" and release["awards"][0]["status"] == "unsuccessful"
    assert "stopped" in release["awards"][0]["description"] and "Reserve" not in release["awards"][0]["description"]
    assert "Reserve price (unsealed" not in release["tender"]["awardCriteriaDetails"]  # never unsealed
