"""The sealed-bid and opening pages render for their users (the JS is tested in tests/bidding_ui)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.trading.sealed import dek_of, pass_deadline, submit
from trading.opening import services as sv

pytestmark = pytest.mark.django_db


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_keys_and_bid_pages(bidding):
    bidder = bidding.bidders[0]
    page = _client(bidder.user).get("/keys/")
    assert page.status_code == 200 and bidder.key and b"keys_page.js" in page.content
    assert bidding.bidders[0].user.organisation.sbe1_keys.get().key_id[:12].encode() in page.content
    submit(bidding.lot, bidder)
    page = _client(bidder.user).get(f"/bidder/lots/{bidding.lot.pk}/bid/")
    assert page.status_code == 200 and b"bid_page.js" in page.content and b"data-withdraw" in page.content
    assert bidding.lot.opening_key.public_spki.encode() in page.content
    assert _client(bidding.cast.agent).get(f"/bidder/lots/{bidding.lot.pk}/bid/").status_code == 403
    assert _client().get("/keys/").status_code == 302


def test_room_and_record_pages(bidding, clock):
    tender = bidding.tender
    bids = [submit(bidding.lot, b, price=p) for b, p in zip(bidding.bidders, ["1.00", "2.00", "3.00"], strict=True)]
    detail = _client().get(f"/tenders/{tender.pk}/")
    assert f"/opening/{tender.pk}/".encode() in detail.content
    room = _client().get(f"/opening/{tender.pk}/")
    assert room.status_code == 200 and b"room.js" in room.content
    labels = room.context["config"]["labels"]  # room.js shows these instead of the machine values
    assert labels["status"]["decrypted"] == "Decrypted" and labels["deposit"]["paid"] == "Paid (valid)"
    assert room.context["config"]["lang"] == "en" and room.context["config"]["moneyItems"] == ["price"]
    assert _client().get(f"/opening/{tender.pk}/record/").status_code == 404
    pass_deadline(clock, tender)
    for b in bidding.bidders:
        sv.opening_sign_in(actor=b.user, tender=tender)
    sv.opening_advance(actor=bidding.cast.agent, tender=tender)
    for b, bid in zip(bidding.bidders, bids, strict=True):
        sv.bid_dek_release(actor=b.user, tender=tender, bid_id=bid["id"], dek=dek_of(b, b.envelopes[bid["id"]]))
    for b in bidding.bidders:
        sv.opening_confirm(actor=b.user, tender=tender)
    sv.opening_close(actor=bidding.cast.agent, tender=tender)
    page = _client().get(f"/opening/{tender.pk}/record/")
    assert page.status_code == 200
    text = page.content.decode()
    assert all(name in text for name in (b.org.name for b in bidding.bidders))
    assert "¥3.00" in text and tender.opening.record_sha256 in text
    assert "Bid price" in text and "Decrypted" in text and ">decrypted<" not in text  # labels, not machine values
    zh = _client()
    zh.cookies["django_language"] = "zh-hans"
    text = zh.get(f"/opening/{tender.pk}/record/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "3.00 元" in text and "¥3.00" not in text
    assert f"/opening/{tender.pk}/record/".encode() in _client().get(f"/tenders/{tender.pk}/").content


def test_agent_evaluation_page_says_a_lot_failed_at_the_opening(bidding, clock):
    for bidder in bidding.bidders[:2]:
        submit(bidding.lot, bidder)
    pass_deadline(clock, bidding.tender)
    client = _client(bidding.cast.agent)
    client.cookies["django_language"] = "en"
    page = client.get(f"/agent/tenders/{bidding.tender.pk}/evaluation/").content.decode()
    assert "Fewer than 3 bids were received" in page and "The evaluation opens after" not in page
