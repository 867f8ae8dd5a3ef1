"""The auctions pages for each role, in both languages; page actions go through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from auctions.models import Buyer, TradeStatus
from tests.auctions.conftest import enrol, new_trade

pytestmark = pytest.mark.django_db


def test_pages_per_role(world, fake_clock, client):
    trade = new_trade(world)
    [buyer] = enrol(world, trade, world.buyers[:1])
    assert client.get("/auctions/").status_code == 200
    page = client.get(f"/auctions/{trade.public_id}/")
    assert page.status_code == 200 and trade.code in page.content.decode()
    assert client.get("/auctions/results/").status_code == 200
    assert client.get(f"/auctions/{trade.public_id}/room/").status_code == 302  # login first
    client.force_login(world.buyers[0])
    body = client.get(f"/auctions/{trade.public_id}/").content.decode()
    assert buyer.deposit_account in body and buyer.number in body
    room = client.get(f"/auctions/{trade.public_id}/room/")
    assert room.status_code == 200 and "room-config" in room.content.decode()
    assert client.get("/auctions/supervision/").status_code == 403
    client.force_login(world.agent)
    body = client.get(f"/auctions/{trade.public_id}/").content.decode()
    assert world.buyers[0].organisation.name in body and buyer.number not in body  # names, no numbers
    client.force_login(world.supervisor)
    assert client.get("/auctions/supervision/").status_code == 200
    body = client.get(f"/auctions/{trade.public_id}/room/").content.decode()
    assert world.buyers[0].organisation.name in body  # supervisors map numbers to names
    zh = client.get("/auctions/", HTTP_ACCEPT_LANGUAGE="zh-hans")  # needs the compiled zh-hans catalogue
    assert zh.status_code == 200 and "土地使用权与国有资产" in zh.content.decode()
    en = client.get("/auctions/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Land-use rights and state-owned assets" in en.content.decode()


def test_apply_and_agent_actions(world, fake_clock, client):
    trade = new_trade(world)
    client.force_login(world.buyers[1])
    f = SimpleUploadedFile("licence.pdf", b"%PDF-1.4 licence", content_type="application/pdf")
    response = client.post(f"/auctions/{trade.public_id}/apply", {"documents": [f]})
    assert response.status_code == 302
    buyer = Buyer.objects.get(trade=trade, organisation=world.buyers[1].organisation)
    assert buyer.documents[0]["name"] == "licence.pdf" and len(buyer.documents[0]["sha256"]) == 64
    client.force_login(world.agent)
    client.post(f"/auctions/{trade.public_id}/action", {"action": "qualify", "buyer": str(buyer.public_id)})
    buyer.refresh_from_db()
    assert buyer.status == "qualified"
    client.post(f"/auctions/{trade.public_id}/action", {"action": "increment", "increment": "20000.00"})
    trade.refresh_from_db()
    assert str(trade.increment) == "20000.00"
    response = client.post(f"/auctions/{trade.public_id}/action", {"action": "increment", "increment": "x"},
                           follow=True)
    assert response.status_code == 200 and "amount" in response.content.decode()
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    client.get(f"/auctions/{trade.public_id}/")
    trade.refresh_from_db()
    assert trade.status == TradeStatus.LISTING
