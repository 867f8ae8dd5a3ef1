"""The supervisor replays the tender's audit trail: downloads the export bundle for the offline
verifier from the replay page (the export signs a checkpoint of the log first), sees every event
of the tender verify (leaf hash, chain link, inclusion in the signed checkpoint), steps through
the timeline, and checks the bundle with the stand-alone verifier against the pinned key.
"""

import os
import subprocess
import sys

import pytest

from tests.e2e import flows, harness
from tests.e2e.browser import wait_until

pytestmark = pytest.mark.e2e

VERIFIER = harness.ROOT / "audit" / "verifier" / "ptrade_audit_verify.py"


def test_supervisor_replays_and_verifies_the_trail(users, story, tmp_path):
    story.need("tender_id", "record")
    path = f"/supervisor/tenders/{story.tender_id}/replay/"
    page = users.page("supervisor1", locale="en", path=path)

    # The bundle for the offline verifier (a signed checkpoint is made for it).
    link = page.locator(f"main a[href$='export?tender={story.tender_id}']")
    with page.expect_download() as info:
        link.click()
    bundle = tmp_path / f"tender-{story.tender_id}.jsonl"
    info.value.save_as(str(bundle))
    key = page.request.get("/api/v1/audit/public-key").json()["verifier_key"]

    page.goto(path)
    verification = page.locator("#verify-h ~ p")
    assert verification.locator(".badge.ok").count() == 1, verification.all_inner_texts()
    assert "signature valid" in verification.nth(1).inner_text()
    assert page.locator("ol.timeline li.failed").count() == 0
    actions = page.locator("ol.timeline .action").all_inner_texts()
    for action in ("tender.created", "bid.submitted", "opening.record_published", "expert_draw.committed",
                   "award.published", "contract.signed"):
        assert action in actions, (action, sorted(set(actions)))

    # Step through: the page opens on the last event; the first one, then the next.
    last = page.locator("[data-selected-seq]").get_attribute("data-selected-seq")
    page.locator("a[data-step=first]").click()
    wait_until(page, "s => document.querySelector('[data-selected-seq]').dataset.selectedSeq !== s", arg=last)
    first = page.locator("[data-selected-seq]").get_attribute("data-selected-seq")
    page.locator("a[data-step=next]").click()
    wait_until(page, "s => document.querySelector('[data-selected-seq]').dataset.selectedSeq !== s", arg=first)
    assert int(first) < int(page.locator("[data-selected-seq]").get_attribute("data-selected-seq")) <= int(last)
    assert "✓" in page.inner_text(".event-detail")
    users.checkpoint(page, "96-supervisor-replay-verified")
    if os.environ.get("E2E_DOCS_SCREENSHOTS") == "1":
        record = page.locator("ol.timeline a", has=page.locator(".action", has_text="opening.record_published"))
        docs = flows.docs_page(users, "supervisor1", f"{path}?at={record.first.get_attribute('data-seq')}")
        docs.locator("[data-selected-seq]").wait_for()
        flows.docs_screenshot(docs, harness.ROOT / "docs" / "img" / "supervisor-replay.png", full_page=False)

    # The stand-alone verifier: no database, no platform code, the pinned key.
    result = subprocess.run([sys.executable, str(VERIFIER), str(bundle), "--key", key],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0 and "VERIFIED" in result.stdout, result.stdout + result.stderr
