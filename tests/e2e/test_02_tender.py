"""The first part of the story: the agent publishes a tender with two lots and a document;
three bidders register and see their deposit instructions; a bidder asks, the agent answers
and the answer appears on the public tender page; the supervisor sees the sealed
registration list that nobody else sees. Later parts append to `story` (tests/e2e/flows.py).
"""

import os
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e import flows

pytestmark = pytest.mark.e2e

TENDERER = "市交通运输局"
BIDDERS = {
    "bidder1": "华建路桥集团有限公司",
    "bidder2": "东方市政工程有限公司",
    "bidder3": "新城建设股份有限公司",
}
CRITERIA = [("投标报价 Price", "price", "40"), ("技术方案 Technical proposal", "scored", "60")]
# Seconds left for bidding after the legal minimum (20 days, accelerated): the steps of this
# module must finish before the deadline; later flows wait for it.
BID_WINDOW = float(os.environ.get("E2E_BID_WINDOW", "90"))


def minimal_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def test_agent_publishes_a_tender(users, story, tmp_path):
    page = users.page("agent1", path="/agent/")
    users.checkpoint(page, "10-agent-workspace")

    deadline = datetime.now(UTC) + timedelta(seconds=story.legal_seconds(20) + BID_WINDOW)
    title = "城市主干道路面改造工程 Arterial road resurfacing"
    tender_id = flows.agent_create_tender(
        page, title=title, tenderer=TENDERER, deadline=deadline,
        description="主干道 6.2 公里沥青路面铣刨重铺及附属设施改造。",
    )
    users.checkpoint(page, "11-agent-draft-created")
    flows.agent_add_lot(page, tender_id, title="一标段 路面工程", estimated_price="12000000.00", deposit="200000.00")
    flows.agent_add_lot(page, tender_id, title="二标段 交通设施", estimated_price="3500000.00", deposit="60000.00")
    document = tmp_path / "招标文件-tender-documents.pdf"
    document.write_bytes(minimal_pdf())
    flows.agent_upload_document(page, tender_id, document)
    assert page.locator("a[href^='/tenders/documents/']", has_text="tender-documents").count() == 1
    assert page.locator(".messages li.success").count() == 1  # the server's answer, shown after the upload
    assert page.evaluate("typeof window.ptradeUI") == "object"  # the page's scripts run again
    # Comprehensive scoring: the weighted criteria are part of the tender documents (招标投标法 Art 40).
    flows.agent_set_criteria(page, tender_id, CRITERIA)
    lot_ids = flows.agent_lot_ids(page, tender_id)
    assert len(lot_ids) == 2
    assert page.locator("#publish-h ~ ul.problems li").count() == 0, page.locator("ul.problems").all_inner_texts()
    users.checkpoint(page, "12-agent-draft-ready")

    flows.agent_publish(page, tender_id, notice_body="欢迎符合资格的投标人参加投标。")
    assert page.locator("h1 ~ p [data-status='published']").count() == 1
    users.checkpoint(page, "13-agent-tender-published")

    story.tender_id = tender_id
    story.tender_code = page.inner_text("h1").split()[0]
    story.lots = [{"id": pk, "number": n} for n, pk in enumerate(lot_ids, 1)]
    story.bid_deadline = deadline


def test_visitor_finds_the_notice_and_the_tender(users, story):
    story.need("tender_id")
    page = users.page(None, path="/notices/")
    page.fill("#id_q", story.tender_code)
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url("**/notices/?*")
    assert page.locator(f"main table a[href='/tenders/{story.tender_id}/']").count() >= 1
    users.checkpoint(page, "14-portal-search")
    page.locator(f"main table a[href='/tenders/{story.tender_id}/']").first.click()
    page.wait_for_url(f"**/tenders/{story.tender_id}/")
    assert page.locator("#lots-h + .table-wrap tbody tr").count() == 2
    users.checkpoint(page, "15-public-tender")


def test_three_bidders_register_and_see_deposit_instructions(users, story):
    story.need("tender_id", "lots")
    lot1 = story.lots[0]["id"]
    pages = {name: users.page(name, path="/bidder/") for name in BIDDERS}  # three contexts side by side
    users.checkpoint(pages["bidder1"], "20-bidder-workspace")
    for name, page in pages.items():
        story.registrations[name] = flows.bidder_register(page, story.tender_id, lot1)
        assert page.locator("#dep-h").count() == 1
        assert page.locator("#dep-h ~ dl code").inner_text().startswith(story.tender_code)
    users.checkpoint(pages["bidder1"], "21-bidder-registration-deposit")
    # Each bidder sees only its own registration.
    for name, page in pages.items():
        page.goto("/bidder/")
        links = page.locator("#reg-h ~ ul a[href^='/bidder/registrations/']")
        assert links.count() == 1
        assert links.first.get_attribute("href") == f"/bidder/registrations/{story.registrations[name]}/"
    other = pages["bidder2"]
    response = other.goto(f"/bidder/registrations/{story.registrations['bidder1']}/")
    assert response.status == 404


def test_bidder_asks_agent_answers_answer_is_public(users, story):
    story.need("tender_id")
    story.question = "第一标段沥青混合料是否可采用 SMA-13？ Is SMA-13 acceptable for lot 1?"
    story.answer = "可以，须满足技术规范第 4.2 条。 Yes, if it meets section 4.2 of the specification."
    bidder = users.page("bidder2")
    flows.bidder_ask(bidder, story.tender_id, story.question)
    users.checkpoint(bidder, "22-bidder-question-sent")

    agent = users.page("agent1")
    agent.goto(f"/agent/tenders/{story.tender_id}/")
    card = agent.locator(".card", has_text=story.question)
    assert card.count() == 1
    assert BIDDERS["bidder2"] not in agent.inner_text("main")  # the asker stays anonymous to the agent
    users.checkpoint(agent, "23-agent-question-to-answer")
    flows.agent_answer(agent, story.tender_id, question=story.question, answer=story.answer)

    visitor = users.page(None, path=f"/tenders/{story.tender_id}/")
    qa = visitor.locator("#qa-h ~ .card", has_text=story.answer)
    assert qa.count() == 1
    users.checkpoint(visitor, "24-public-answer")


def test_supervisor_sees_the_sealed_registration_list(users, story):
    story.need("tender_id", "registrations")
    page = users.page("supervisor1", path="/supervisor/tenders/")
    # The table filter (ui.js, data-filter): typing narrows the rows, clearing shows them again.
    search = page.locator("#supervised-tenders-filter")
    search.fill(story.tender_code)
    assert page.locator("#supervised-tenders tbody tr:visible").count() == 1
    search.fill("no such tender at all")
    assert page.locator("#supervised-tenders tbody tr:visible").count() == 0
    search.fill("")
    users.checkpoint(page, "30-supervisor-tenders")
    page.goto(f"/supervisor/tenders/{story.tender_id}/")
    rows = page.locator("#reg-h ~ .table-wrap tbody tr")
    assert rows.count() == 3
    text = page.inner_text("#reg-h ~ .table-wrap")
    for org in BIDDERS.values():
        assert org in text
    assert page.locator(".badge.warn").count() >= 1  # "sealed for the tender's side and bidders"
    users.checkpoint(page, "31-supervisor-sealed-registrations")

    # Nobody else sees it before the deadline: not the agent, not the public.
    agent = users.page("agent1", path=f"/agent/tenders/{story.tender_id}/")
    main = agent.inner_text("main")
    assert not any(org in main for org in BIDDERS.values())
    visitor = users.page(None, path=f"/tenders/{story.tender_id}/")
    assert not any(org in visitor.inner_text("main") for org in BIDDERS.values())


def test_dashboards_say_what_is_due_next(users, story):
    story.need("tender_id", "registrations")
    agent = users.page("agent1", path="/")
    item = agent.locator("#due-agent .due-item", has_text=story.tender_code)
    assert item.locator("[data-countdown]").count() >= 1
    users.checkpoint(agent, "40-agent-dashboard")

    bidder = users.page("bidder1", path="/")
    item = bidder.locator("#due-bidder .due-item", has_text=story.tender_code)
    assert item.count() == 1 and item.locator("[data-countdown]").count() == 1
    before = item.locator("[data-countdown]").inner_text()
    bidder.wait_for_timeout(1500)
    assert item.locator("[data-countdown]").inner_text() != before  # it counts down live
    users.checkpoint(bidder, "41-bidder-dashboard")

    supervisor = users.page("supervisor1", path="/")
    assert supervisor.locator("#due-supervisor .due-item", has_text=story.tender_code).count() >= 1
    users.checkpoint(supervisor, "42-supervisor-dashboard")

    phone = users.page("bidder1", phone=True, path="/")
    users.checkpoint(phone, "43-bidder-dashboard-phone")
