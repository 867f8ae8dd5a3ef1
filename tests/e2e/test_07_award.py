"""Publicity and award: the agent publishes the candidates (中标候选人公示); the public results
page shows them; the publicity's legal 3 days pass (9 s accelerated); the agent publishes the
award to the first-ranked candidate and records the signed contract; the deposits are refunded
(a refund instruction on each bidder's deposit page) once the scheduled refund steps have run.
"""

import time
from datetime import datetime

import pytest

from tests.e2e import flows
from tests.e2e.test_02_tender import BIDDERS

pytestmark = pytest.mark.e2e


def test_candidates_are_published_then_the_award_and_the_contract(users, story, e2e_server):
    story.need("report_final")
    path = f"/agent/tenders/{story.tender_id}/evaluation/"
    agent = users.page("agent1", locale="en", path=path)
    publish = agent.locator(f"form[action='/agent/tenders/{story.tender_id}/candidate-publicity/'] button")
    flows.post_and_reload(agent, publish)
    published_at = time.monotonic()
    assert agent.locator("h1 ~ p [data-status='publicity']").count() == 1
    users.checkpoint(agent, "90-agent-candidate-publicity")

    visitor = users.page(None, locale="en", path=f"/tenders/{story.tender_id}/results/")
    assert all(org in visitor.inner_text("main") for org in BIDDERS.values())
    users.checkpoint(visitor, "91-public-candidates")

    # The publicity lasts 3 legal days; the award follows it (实施条例 Art 54). One fixed wait.
    time.sleep(max(0.0, story.legal_seconds(3) + 1 - (time.monotonic() - published_at)))
    ran = flows.run_due_steps(e2e_server)
    assert any(s["kind"] == "publicity_end" and s["result"] == "publicity ended" for s in ran), ran
    agent.reload()
    flows.post_and_reload(agent, agent.locator(f"form[action='/agent/tenders/{story.tender_id}/award/'] button"))
    awarded_at = time.monotonic()
    award = agent.locator("form[action^='/agent/awards/'][action$='/contract/']")
    assert award.count() == 1
    # Comprehensive scoring: bidder3 has the best technical marks and wins although bidder2 is cheaper.
    assert BIDDERS["bidder3"] in award.locator("xpath=..").inner_text()
    users.checkpoint(agent, "92-agent-awarded")

    # Signed after the award notice (to the second: the form has no fractions): at least a second later.
    time.sleep(max(0.0, 1.0 - (time.monotonic() - awarded_at)))
    award.locator("[name=signed_at]").fill(flows.local_input(datetime.now(flows.SHANGHAI)))
    award.locator("[name=title]").fill("Arterial road resurfacing, lot 1: works contract")
    flows.post_and_reload(agent, award.locator("button[type=submit]"))
    assert agent.locator("form[action$='/contract/']").count() == 0
    users.checkpoint(agent, "93-agent-contract-recorded")

    visitor.reload()
    assert BIDDERS["bidder3"] in visitor.inner_text("main")
    users.checkpoint(visitor, "94-public-award")
    story.extra["awarded"] = True


def test_deposits_are_refunded_after_the_contract(users, story, e2e_server):
    story.need("awarded", "deposits_paid")
    flows.run_due_steps(e2e_server)  # the refund steps are due at once (trading beat)
    page = users.page("bidder1", locale="en")
    flows.bidder_deposit_page(page, story.tender_code)
    refunds = page.locator("#refund-h ~ .table-wrap tbody tr")
    assert refunds.count() == 1 and refunds.locator("code").count() == 1, refunds.all_inner_texts()
    users.checkpoint(page, "95-bidder-deposit-refund-instructed")
