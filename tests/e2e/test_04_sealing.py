"""Sealing: each bidder generates its organisation's P-256 key pair in the browser (/keys/), keeps
the downloaded key file, fills its bid (price and duration), picks a document and seals, signs and
uploads the envelope in the browser (sbe1.js); the signed receipt shows, the envelope is listed.
Nothing else can read the bid before the deadline: the opening room shows no bid yet.
"""

import json

import pytest

from tests.e2e import flows
from tests.e2e.test_02_tender import BIDDERS

pytestmark = pytest.mark.e2e

KEY_PASSWORD = "e2e-key-file-password"
# name -> (price, duration in days); bidder2 is the cheapest.
BIDS = {"bidder1": ("11680000.00", "300"), "bidder2": ("11250000.50", "320"), "bidder3": ("11990000.00", "280")}


def test_bidders_generate_keys_seal_and_upload(users, story, e2e_server):
    story.need("tender_id", "lots", "deposits_paid")
    lot1 = story.lots[0]["id"]
    keys_dir = e2e_server.keys_dir
    keys_dir.mkdir(parents=True, exist_ok=True)
    keyfiles, receipts = {}, {}
    pages = {name: users.page(name, locale="en") for name in BIDDERS}
    for n, (name, page) in enumerate(pages.items(), 1):
        keyfiles[name] = flows.generate_key(page, keys_dir / f"{name}.key", password=KEY_PASSWORD,
                                            label=f"e2e {name}")
        assert json.loads(keyfiles[name].read_text())  # a key file (JSON), kept by the bidder
        if n == 1:
            users.checkpoint(page, "60-bidder-key-registered")
    for n, (name, page) in enumerate(pages.items(), 1):
        document = keys_dir / f"{name}-technical-proposal.txt"
        document.write_text(f"Technical proposal of {BIDDERS[name]}\n" * 50, encoding="utf-8")
        price, days = BIDS[name]
        receipt = flows.seal_and_upload(page, lot1, items={"price": price, "duration_days": days},
                                        files=[document], keyfile=keyfiles[name], password=KEY_PASSWORD)
        receipts[name] = json.loads(receipt)
        assert "envelope_sha256" in receipt, receipt  # the platform's signed receipt
        if n == 1:
            users.checkpoint(page, "61-bidder-sealed-receipt")
        page.reload()
        assert page.locator("#mine-h ~ .table-wrap tbody tr").count() == 1
        if n == 1:
            users.checkpoint(page, "62-bidder-envelope-listed")

    # Before the deadline the room shows no bid to anybody, not even the agent.
    agent = users.page("agent1", locale="en", path=f"/opening/{story.tender_id}/")
    agent.locator("#conn").filter(has_text="live").wait_for()
    assert agent.locator("#readout tbody tr").count() == 0 and agent.locator("#bids li").count() == 0
    story.extra["keyfiles"] = {name: str(path) for name, path in keyfiles.items()}
    story.extra["receipts"] = receipts
