"""Upload facts (IP, User-Agent, device fingerprint) recorded at submission for the collusion signals:
captured through the upload API, normalised (malformed → dropped, never an error), committed to in the
audit event by a salted hash only, and absent from what bidders, agents and the public can read."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.test import Client

from audit.sealed import stored_event
from tests.trading.sealed import pass_deadline, seal, upload
from trading.bids import submission
from trading.models import Bid

pytestmark = pytest.mark.django_db

IP = "203.0.113.77"
UA = "Mozilla/5.0 (X11; Linux x86_64) UploadFactsTest/1.0"
FP = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
HIDDEN = ("upload_ip", "user_agent", "device_fingerprint", "upload_facts_salt", "upload_facts_sha256")


def _facts(ip=IP, ua=UA, fp=FP) -> dict:
    headers = {"REMOTE_ADDR": ip}
    if ua is not None:
        headers["HTTP_USER_AGENT"] = ua
    if fp is not None:
        headers["HTTP_X_DEVICE_FINGERPRINT"] = fp
    return headers


def _upload(bidding, i=0, **facts):
    bidder = bidding.bidders[i]
    response = upload(bidding.lot, bidder, seal(bidding.lot, bidder), **_facts(**facts))
    assert response.status_code == 201, response.content
    return Bid.objects.get(public_id=response.json()["id"]), response


def _leaks(text: str, *values: str) -> list[str]:
    return [v for v in (*HIDDEN, *values) if v and v in text]


def test_api_upload_stores_ip_user_agent_and_fingerprint(bidding):
    bid, _ = _upload(bidding)
    bid.refresh_from_db()
    assert (bid.upload_ip, bid.user_agent, bid.device_fingerprint) == (IP, UA, FP)
    assert len(bid.upload_facts_salt) == 32 and int(bid.upload_facts_salt, 16) >= 0
    # The audit event commits to the facts (salted), and never carries them in clear.
    event = SimpleNamespace(**stored_event(bid.audit_seq))
    assert event.action == "bid.submitted"
    assert event.data["upload_facts_sha256"] == submission.upload_facts_sha256(bid)
    data = json.dumps(event.data, ensure_ascii=False)
    assert IP not in data and UA not in data and FP not in data and bid.upload_facts_salt not in data
    # A changed row no longer matches the commitment in the log.
    bid.upload_ip = "203.0.113.78"
    assert submission.upload_facts_sha256(bid) != event.data["upload_facts_sha256"]


def test_replacement_records_its_own_upload_facts(bidding):
    first, _ = _upload(bidding)
    second, _ = _upload(bidding, ip="198.51.100.4", fp="ffffffffffffffffffffffffffffffff")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.upload_ip) == ("superseded", IP)
    assert (second.status, second.upload_ip, second.device_fingerprint) == (
        "active", "198.51.100.4", "ffffffffffffffffffffffffffffffff")
    event = SimpleNamespace(**stored_event(second.audit_seq))
    assert event.action == "bid.replaced"
    assert event.data["upload_facts_sha256"] == submission.upload_facts_sha256(second)
    assert first.upload_facts_salt != second.upload_facts_salt


@pytest.mark.parametrize("fingerprint", [
    "abc def", "ab/cd", "<script>alert(1)</script>", "fp;drop", "x" * 129, "ｆｐ１２３", "é" * 10, " ",
])
def test_malformed_fingerprint_is_dropped_not_an_error(bidding, fingerprint):
    bid, _ = _upload(bidding, fp=fingerprint)
    bid.refresh_from_db()
    assert bid.device_fingerprint == "" and bid.upload_ip == IP and bid.user_agent == UA


def test_fingerprint_alphabet_and_length_are_accepted(bidding):
    value = "Ab_-09" + "z" * 122  # 128 characters of [A-Za-z0-9_-]
    bid, _ = _upload(bidding, fp=f"  {value} ")
    bid.refresh_from_db()
    assert bid.device_fingerprint == value


def test_user_agent_truncated_and_ip_normalised(bidding):
    long_agent = "Mozilla/5.0 \x00\x07(long)" + "x" * 600
    bid, _ = _upload(bidding, ip="::ffff:198.51.100.9", ua=long_agent)
    bid.refresh_from_db()
    assert bid.upload_ip == "198.51.100.9"
    assert len(bid.user_agent) == 512 and bid.user_agent.startswith("Mozilla/5.0 (long)xxx")
    bid, _ = _upload(bidding, i=1, ip="2001:DB8:0:0:0:0:0:1", ua=None, fp=None)
    bid.refresh_from_db()
    assert (bid.upload_ip, bid.user_agent, bid.device_fingerprint) == ("2001:db8::1", "", "")
    # The commitment computed at upload still matches the row read back from the database.
    assert stored_event(bid.audit_seq)["data"]["upload_facts_sha256"] == submission.upload_facts_sha256(bid)
    bid, _ = _upload(bidding, i=2, ip="unknown")
    bid.refresh_from_db()
    assert bid.upload_ip is None and bid.device_fingerprint == FP


def test_cli_upload_without_fingerprint(bidding):
    bidder = bidding.bidders[0]
    response = upload(bidding.lot, bidder, seal(bidding.lot, bidder), REMOTE_ADDR="192.0.2.10",
                      HTTP_USER_AGENT="python-sbe1/1.0")
    assert response.status_code == 201, response.content
    bid = Bid.objects.get()
    assert (bid.upload_ip, bid.user_agent, bid.device_fingerprint) == ("192.0.2.10", "python-sbe1/1.0", "")


def test_forwarded_for_is_ignored_unless_a_proxy_is_configured(bidding, settings):
    bidder = bidding.bidders[1]
    response = upload(bidding.lot, bidder, seal(bidding.lot, bidder), REMOTE_ADDR="10.0.0.5",
                      HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert response.status_code == 201
    assert Bid.objects.get(public_id=response.json()["id"]).upload_ip == "10.0.0.5"
    # Behind a configured proxy (PTRADE_TRUSTED_PROXIES), the right-most hop the proxy did not add is
    # the client: a hop the client forged in front of it is ignored (config/clientip.py).
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    bidder = bidding.bidders[2]
    response = upload(bidding.lot, bidder, seal(bidding.lot, bidder), REMOTE_ADDR="10.0.0.5",
                      HTTP_X_FORWARDED_FOR="203.0.113.66, 198.51.100.200, 10.0.0.7")
    assert response.status_code == 201
    assert Bid.objects.get(public_id=response.json()["id"]).upload_ip == "198.51.100.200"


def test_upload_facts_absent_from_bidder_agent_and_public_outputs(bidding, api, clock):
    lot, tender = bidding.lot, bidding.tender
    bids = []
    for i in range(len(bidding.bidders)):
        bid, response = _upload(bidding, i=i, ip=f"203.0.113.{10 + i}", ua=f"{UA} #{i}", fp=f"{FP[:-1]}{i}")
        assert not _leaks(response.content.decode(), bid.upload_ip, bid.user_agent, bid.device_fingerprint)
        bids.append(bid)
    secrets = [v for b in bids for v in (b.upload_ip, b.user_agent, b.device_fingerprint, b.upload_facts_salt)]
    bidder = bidding.bidders[0]
    token = Client(HTTP_AUTHORIZATION=f"Token {bidder.token}")
    outputs = {
        "upload GET": token.get(f"/api/v1/tenders/{tender.pk}/lots/{lot.pk}/bids"),
        "bids/mine": token.get("/api/v1/bids/mine"),
        "bids/<id>": token.get(f"/api/v1/bids/{bids[0].public_id}"),
    }
    page = Client()
    page.force_login(bidder.user)
    outputs["bid page"] = page.get(f"/bidder/lots/{lot.pk}/bid/")
    pass_deadline(clock, tender)  # bidding closed; the opening room opens (sign-in)
    agent = api.as_user(bidding.cast.agent)
    outputs["agent room"] = agent.get(f"/api/v1/tenders/{tender.pk}/opening")
    outputs["agent room events"] = agent.get(f"/api/v1/tenders/{tender.pk}/opening/events")
    outputs["agent tender"] = agent.get(f"/api/v1/tenders/{tender.pk}")
    outputs["bidder room"] = api.as_user(bidder.user).get(f"/api/v1/tenders/{tender.pk}/opening")
    public = Client()
    outputs["public tender"] = public.get(f"/api/v1/tenders/{tender.pk}")
    outputs["public room page"] = public.get(f"/opening/{tender.pk}/")
    for name, response in outputs.items():
        assert response.status_code == 200, (name, response.status_code)
        assert not _leaks(response.content.decode(), *secrets), name
