"""The live opening room (不见面开标) in six browser contexts at once: the agent (host), the three
bidders, a supervisor and an anonymous visitor. The bid deadline passes; the room changes phase
live everywhere; the bidders sign in, decrypt their bids in their browsers (key file → DEK →
`release_dek`); the read-out rows appear live in every context that may see them; the bidders
confirm; the host closes; the signed record is public, with the read-out, for the visitor too.

Due scheduled steps (the bid deadline) are swept once by the test, as the beat does
(tests/e2e/server_setup.py `run-due-steps`): at 28,800× the room's windows would otherwise close
within a second or so, before a browser has decrypted anything.
"""

import hashlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e import flows, harness
from tests.e2e.browser import wait_until
from tests.e2e.test_02_tender import BIDDERS
from tests.e2e.test_04_sealing import BIDS, KEY_PASSWORD

pytestmark = pytest.mark.e2e

DOCS_IMG = harness.ROOT / "docs" / "img"
DOCS_SCREENSHOTS = os.environ.get("E2E_DOCS_SCREENSHOTS") == "1"


def test_live_opening_room_in_six_contexts(users, story, e2e_server):
    story.need("tender_id", "keyfiles", "bid_deadline")
    path = f"/opening/{story.tender_id}/"
    rooms = {name: users.page(name, locale="en", path=path) for name in ("agent1", *BIDDERS, "supervisor1")}
    rooms["visitor"] = users.page(None, locale="en", path=path)
    docs = flows.docs_page(users, "supervisor1", path) if DOCS_SCREENSHOTS else None
    for page in rooms.values():
        flows.room_wait_live(page)
        assert flows.room_phase(page) == "Waiting for the bid deadline"

    # The deadline (a legal 20 days, accelerated): the one fixed wait of the story.
    left = (story.bid_deadline - datetime.now(UTC)).total_seconds()
    assert left > -30, f"the bid deadline passed {-left:.0f} s before the opening test started"
    if left > 0:
        time.sleep(left + 0.5)
    ran = flows.run_due_steps(e2e_server)
    assert any(step["kind"] == "bid_deadline" for step in ran), ran
    for page in rooms.values():  # pushed over the WebSocket, no reload
        flows.room_expect_phase(page, "Sign-in")

    for name in BIDDERS:
        rooms[name].locator("#bidder-controls button[data-cmd=sign_in]").click()
    for name in ("agent1", *BIDDERS, "supervisor1"):
        wait_until(rooms[name], "document.querySelectorAll('#signins li').length === 3")
    assert rooms["visitor"].locator("#signins li").count() == 0  # the public sees phases only
    users.checkpoint(rooms["bidder1"], "70-room-bidder-signed-in")

    rooms["agent1"].locator("#host-controls button[data-cmd=advance]").click()  # start decryption
    for page in rooms.values():
        flows.room_expect_phase(page, "Decryption")
    for n, name in enumerate(BIDDERS, 1):
        flows.room_release_dek(rooms[name], Path(story.extra["keyfiles"][name]), KEY_PASSWORD)
        for viewer in ("agent1", "supervisor1", name):  # each row appears live where it may be seen
            wait_until(rooms[viewer],
                "n => document.querySelectorAll('#readout tbody tr').length >= n", arg=n)
        if n == 2:
            users.checkpoint(rooms["supervisor1"], "71-room-supervisor-readout-live")
    for page in rooms.values():
        flows.room_expect_phase(page, "Confirmation")
    for name in ("agent1", *BIDDERS, "supervisor1"):
        rows = flows.room_readout(rooms[name])
        assert len(rows) == 3, rows
        for bidder, (price, days) in BIDS.items():
            row = next(r for r in rows if r[1].startswith(BIDDERS[bidder]))
            assert row[2:4] == [flows.money_en(price), days] and row[4] == "Decrypted", row
            assert row[5] == "Paid (valid)", row  # the deposit status joins the read-out
    assert rooms["visitor"].locator("#readout tbody tr").count() == 0  # not before the record
    users.checkpoint(rooms["agent1"], "72-room-agent-readout")

    for name in BIDDERS:
        rooms[name].locator("#bidder-controls button[data-cmd=confirm]").click()
    for page in rooms.values():
        flows.room_expect_phase(page, "Objections")
    if docs is not None:  # the supervisor's room as it stood, live since before the deadline
        flows.room_expect_phase(docs, "Objections")
        wait_until(docs, "document.querySelectorAll('#readout tbody tr').length === 3")
        flows.docs_screenshot(docs, DOCS_IMG / "opening-room.png")
    rooms["agent1"].locator("#host-controls button[data-cmd=advance]").click()  # close: the record
    for page in rooms.values():
        flows.room_expect_phase(page, "Closed")
    wait_until(rooms["visitor"], "document.querySelectorAll('#readout tbody tr').length === 3")
    confirmations = [row[-1] for row in flows.room_readout(rooms["supervisor1"])]
    assert confirmations == ["Confirmed"] * 3, confirmations
    users.checkpoint(rooms["visitor"], "73-room-public-after-record")
    users.checkpoint(rooms["supervisor1"], "74-room-supervisor-closed")
    story.extra["opened"] = True


def test_the_signed_record_is_public(users, story):
    story.need("opened")
    page = users.page(None, locale="en", path=f"/opening/{story.tender_id}/record/")
    table = page.inner_text("main .table-wrap")
    for name, org in BIDDERS.items():
        assert org in table and flows.money_en(BIDS[name][0]) in table
    assert page.locator("main a[href$='/record.pdf']").count() == 1
    users.checkpoint(page, "75-opening-record-public")
    response = page.request.get(f"/api/v1/tenders/{story.tender_id}/opening/record")
    assert response.ok
    digest = page.locator("main p code").first.inner_text().strip()
    assert hashlib.sha256(response.body()).hexdigest() == digest  # the exact canonical bytes
    story.extra["record"] = True
