"""The expert draw and the evaluation: the agent requests a five-member committee for lot 1
(technical and economic lines); the platform draws it at random and calls the experts; each
called expert accepts in its inbox; the agent opens the evaluation; each expert signs in,
declares no conflict, passes the bids, scores the technical criterion and submits its sheet
(the platform signs a receipt); every member signs the generated report, which becomes final.

Who was called is read from the platform's outbox (the SMS the expert's phone would show,
tests/e2e/server_setup.py `called-experts`): the agent never sees the names before sign-in.
"""

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e import flows
from tests.e2e.test_02_tender import BIDDERS

pytestmark = pytest.mark.e2e

# Technical points per bidder (organisation name) for each of the five members.
POINTS = {BIDDERS["bidder1"]: ["52", "50", "55", "51", "53"],
          BIDDERS["bidder2"]: ["48", "47", "50", "49", "46"],
          BIDDERS["bidder3"]: ["56", "58", "54", "57", "55"]}


def test_agent_requests_the_draw_and_experts_accept(users, story, e2e_server):
    story.need("record")
    lot1 = story.lots[0]["id"]
    agent = users.page("agent1", locale="en")
    now = datetime.now(UTC)
    draw_id = flows.agent_request_draw(
        agent, lot1, start=now + timedelta(minutes=2), end=now + timedelta(hours=4), place="Evaluation room 3",
        lines=[("A02", 3, 2), ("D", 2, 1)],
    )
    assert agent.locator(".messages li.success").count() == 1
    users.checkpoint(agent, "80-agent-draw")

    called = flows.called_experts(e2e_server, story.tender_id)
    assert len(called) == 5 and all(c["username"] for c in called), called
    for n, call in enumerate(called):
        expert = users.page(call["username"], locale="en", path="/expert/assignments/")
        if n == 0:
            users.checkpoint(expert, "81-expert-inbox-call")
        flows.expert_accept(expert, call["assignment"])
    agent.reload()
    users.checkpoint(agent, "82-agent-draw-complete")
    supervisor = users.page("supervisor1", locale="en", path=f"/supervisor/draws/{draw_id}/")
    users.checkpoint(supervisor, "83-supervisor-draw")
    story.extra["draw_id"] = draw_id
    story.extra["experts"] = [c["username"] for c in called]


def test_experts_evaluate_score_and_sign_the_report(users, story):
    story.need("draw_id", "experts")
    lot1 = story.lots[0]["id"]
    agent = users.page("agent1", locale="en", path=f"/agent/tenders/{story.tender_id}/evaluation/")
    users.checkpoint(agent, "84-agent-evaluation-before")
    flows.post_and_reload(agent, agent.locator(f"form[action='/agent/lots/{lot1}/evaluation/open/'] button"))

    experts = {name: users.page(name, locale="en") for name in story.extra["experts"]}
    session_id = None
    for n, page in enumerate(experts.values()):
        session_id = flows.expert_session_id(page, story.tender_code)
        flows.expert_evaluate(page, session_id, points={org: pts[n] for org, pts in POINTS.items()})
        assert page.locator("main code").first.inner_text()  # the sheet's SHA-256 and the receipt
        if n == 0:
            users.checkpoint(page, "85-expert-sheet-submitted")
    for n, page in enumerate(experts.values()):
        flows.expert_sign_report(page, session_id)
        if n == 0:
            users.checkpoint(page, "86-expert-report-signed")

    agent.reload()
    report = agent.locator("main a[href^='/evaluation/reports/']").first
    assert "final" in report.inner_text().lower(), report.inner_text()
    report.click()
    agent.wait_for_url("**/evaluation/reports/*/")
    text = agent.inner_text("main")
    assert all(org in text for org in BIDDERS.values())  # the full ranking
    users.checkpoint(agent, "87-evaluation-report")
    story.extra["session_id"] = session_id
    story.extra["report_final"] = True
