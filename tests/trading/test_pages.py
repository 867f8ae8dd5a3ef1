"""The tendering pages, through Django's test client: portal, agent and bidder workspaces, supervision."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import chain_verify
from tests.trading.helpers import pdf
from trading.models import DocumentDownload, Notice, Objection, Question, Registration, Tender, TenderStatus
from trading.services.objections import objection_raise
from trading.services.questions import question_answer, question_ask
from trading.services.registrations import registration_create
from trading.tasks import sweep_due_steps

DAY = timedelta(days=1)


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


def anonymous() -> Client:
    """A browser asking for English pages (assertions below read English text)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def login(user) -> Client:
    client = anonymous()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


# --- public portal ---------------------------------------------------------------------------------


def test_notice_list_search_and_filters(published, make_draft, cast):
    from trading.services.tenders import tender_publish

    goods = make_draft(procedure_type="goods", title="Office furniture")
    tender_publish(actor=cast.agent, tender=goods)
    client = anonymous()
    page = text(client.get("/notices/"))
    assert "Road resurfacing 2026" in page and "Office furniture" in page
    page = text(client.get("/notices/", {"q": "furniture"}))
    assert "Office furniture" in page and "Road resurfacing" not in page
    page = text(client.get("/notices/", {"procedure_type": "works"}))
    assert "Road resurfacing" in page and "Office furniture" not in page
    assert "Road resurfacing" not in text(client.get("/notices/", {"kind": "award_result"}))
    assert "Road resurfacing" in text(client.get("/notices/", {"status": "published"}))
    assert client.get("/notices/", {"kind": "bogus"}).status_code == 200  # bad filter: form error, no 500
    notice = Notice.objects.get(tender=published)
    detail = text(client.get(f"/notices/{notice.pk}/"))
    assert notice.content_sha256 in detail
    assert client.get("/notices/999999/").status_code == 404
    assert client.get("/results/").status_code == 200


def test_tender_page_shows_lots_documents_answers_but_no_sealed_facts(published, cast):
    registration_create(actor=cast.bidders[0], lot=published.lots.get())
    q = question_ask(actor=cast.bidders[0], tender=published, text="Which asphalt grade?")
    question_answer(actor=cast.agent, question=q, answer="AC-13.")
    question_ask(actor=cast.bidders[1], tender=published, text="Unanswered question here")
    for client in (anonymous(), login(cast.agent), login(cast.bidders[2])):
        page = text(client.get(f"/tenders/{published.pk}/"))
        assert "Lot 1" in page and "tender-documents.pdf" in page and "AC-13." in page
        assert "Unanswered question here" not in page
        assert cast.bidder_orgs[0].name not in page
        assert "sealed until the bid deadline" in page
    assert anonymous().get("/tenders/999999/").status_code == 404


def test_anonymous_download_from_the_page(published):
    doc = published.documents.get()
    response = anonymous().get(f"/tenders/documents/{doc.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert DocumentDownload.objects.count() == 1


def test_drafts_not_public(make_draft):
    tender = make_draft()
    assert anonymous().get(f"/tenders/{tender.pk}/").status_code == 404


# --- access --------------------------------------------------------------------------------------------


def test_workspaces_need_login_and_role(published, cast):
    visitor = anonymous()
    for url in ("/agent/", "/bidder/", "/supervisor/tenders/"):
        response = visitor.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert login(cast.bidders[0]).get("/agent/").status_code == 403
    assert login(cast.agent).get("/bidder/").status_code == 403
    assert login(cast.agent).get("/supervisor/tenders/").status_code == 403
    assert login(cast.bidders[0]).get(f"/agent/tenders/{published.pk}/").status_code == 403
    assert login(cast.tenderer).get("/agent/").status_code == 200
    assert login(cast.tenderer).get("/agent/tenders/new/").status_code == 403


def test_navigation_by_role(cast):
    page = text(login(cast.bidders[0]).get("/notices/"))
    assert 'href="/bidder/"' in page and 'href="/agent/"' not in page
    page = text(login(cast.supervisor).get("/notices/"))
    assert 'href="/supervisor/tenders/"' in page


# --- agent workspace -------------------------------------------------------------------------------------


def test_agent_creates_drafts_and_sees_rule_errors_before_publishing(cast, clock):
    agent = login(cast.agent)
    page = text(agent.get("/agent/tenders/new/"))
    assert "csrfmiddlewaretoken" in page and "<label" in page
    response = agent.post(
        "/agent/tenders/new/",
        {
            "title": "School canteen",
            "tenderer": cast.tenderer_org.pk,
            "procedure_type": "works",
            "evaluation_method": "lowest_evaluated_price",
            "readout_items": ["duration_days"],
            "bid_deadline": local(clock.now() + 15 * DAY),
            "decryption_window_minutes": 30,
            "confirmation_window_minutes": 15,
        },
    )
    tender = Tender.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/agent/tenders/{tender.pk}/"
    assert tender.readout_items == ["price", "duration_days"]
    assert (
        agent.post(
            f"/agent/tenders/{tender.pk}/lots/",
            {"title": "Main works", "estimated_price": "1000000", "deposit_amount": "50000"},
        ).status_code
        == 302
    )
    assert agent.post(f"/agent/tenders/{tender.pk}/documents/", {"file": pdf()}).status_code == 302
    page = text(agent.get(f"/agent/tenders/{tender.pk}/"))
    assert "招标投标法 Art 24" in page and "招标投标法实施条例 Art 26" in page  # problems listed before publishing
    response = agent.post(f"/agent/tenders/{tender.pk}/publish/", {})
    assert response.status_code == 400 and "招标投标法 Art 24" in text(response)
    tender.refresh_from_db()
    assert tender.status == TenderStatus.DRAFT
    # fix both and publish
    response = agent.post(
        f"/agent/tenders/{tender.pk}/edit/",
        {
            "title": "School canteen",
            "tenderer": cast.tenderer_org.pk,
            "procedure_type": "works",
            "evaluation_method": "lowest_evaluated_price",
            "readout_items": ["duration_days"],
            "bid_deadline": local(clock.now() + 25 * DAY),
            "decryption_window_minutes": 30,
            "confirmation_window_minutes": 15,
        },
    )
    assert response.status_code == 302
    lot = tender.lots.get()
    assert (
        agent.post(
            f"/agent/lots/{lot.pk}/edit/",
            {"title": "Main works", "estimated_price": "1000000", "deposit_amount": "20000"},
        ).status_code
        == 302
    )
    response = agent.post(f"/agent/tenders/{tender.pk}/publish/", {"notice_title": "", "notice_body": "Welcome."})
    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.status == TenderStatus.PUBLISHED
    assert "Welcome." in Notice.objects.get(tender=tender).body


def test_bad_form_input_is_a_page_error_not_a_500(make_draft, cast):
    tender = make_draft()
    agent = login(cast.agent)
    response = agent.post(f"/agent/tenders/{tender.pk}/lots/", {"title": "", "estimated_price": "-3"})
    assert response.status_code == 400
    assert tender.lots.count() == 1
    response = agent.post("/agent/tenders/new/", {"title": "x", "bid_deadline": "yesterday"})
    assert response.status_code == 200 and Tender.objects.count() == 1
    assert agent.post(f"/agent/tenders/{tender.pk}/documents/", {}).status_code == 400
    assert agent.get("/agent/tenders/999999/").status_code == 404


def test_amendment_page_proposes_and_enforces_the_new_deadline(published, cast, clock):
    clock.move_to(published.bid_deadline - 10 * DAY)
    agent = login(cast.agent)
    page = text(agent.get(f"/agent/tenders/{published.pk}/amendment/"))
    assert "招标投标法 Art 23" in page
    data = {"kind": "amendment", "title": "Amendment 1", "body": "New drawings", "affects_preparation": "on"}
    response = agent.post(f"/agent/tenders/{published.pk}/amendment/", data)
    assert response.status_code == 400 and Notice.objects.filter(tender=published).count() == 1
    proposed = response.context["form"].data["new_deadline"]
    response = agent.post(f"/agent/tenders/{published.pk}/amendment/", {**data, "new_deadline": proposed})
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.bid_deadline >= clock.now() + 15 * DAY - timedelta(seconds=1)


def test_published_tender_cannot_be_edited_in_the_page(published, cast):
    agent = login(cast.agent)
    response = agent.get(f"/agent/tenders/{published.pk}/edit/", follow=True)
    assert "Only a draft can be edited" in text(response)
    response = agent.post(f"/agent/lots/{published.lots.get().pk}/edit/", {"title": "x", "estimated_price": "5"})
    assert response.status_code == 200 and published.lots.get().title == "Lot 1"


def test_agent_answers_and_replies_without_seeing_authors(published, cast):
    q = question_ask(actor=cast.bidders[0], tender=published, text="Question from a bidder")
    o = objection_raise(actor=cast.bidders[1], tender=published, text="Objection from a bidder")
    agent = login(cast.agent)
    page = text(agent.get(f"/agent/tenders/{published.pk}/"))
    assert "Question from a bidder" in page and "Objection from a bidder" in page
    assert cast.bidder_orgs[0].name not in page and cast.bidder_orgs[1].name not in page
    assert agent.post(f"/agent/questions/{q.pk}/answer/", {"answer": "The answer"}).status_code == 302
    assert agent.post(f"/agent/objections/{o.pk}/reply/", {"reply": "The reply"}).status_code == 302
    q.refresh_from_db()
    o.refresh_from_db()
    assert q.published and o.status == "replied"
    published.refresh_from_db()
    assert published.status == TenderStatus.PUBLISHED


# --- bidder workspace --------------------------------------------------------------------------------------------


def test_bidder_registers_sees_deposit_instructions_asks_and_objects(published, cast):
    bidder = login(cast.bidders[0])
    lot = published.lots.get()
    assert "Road resurfacing" in text(bidder.get("/bidder/"))
    response = bidder.post(f"/bidder/lots/{lot.pk}/register/")
    registration = Registration.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bidder/registrations/{registration.public_id}/"
    page = text(bidder.get(response["Location"]))
    assert "100,000.00" in page and cast.bidder_orgs[0].basic_account_number in page  # the money format
    assert "招标投标法实施条例 Art 26" in page
    # a second click is refused politely
    response = bidder.post(f"/bidder/lots/{lot.pk}/register/", follow=True)
    assert "already registered" in text(response) and Registration.objects.count() == 1
    # another bidder cannot see this registration
    assert login(cast.bidders[1]).get(f"/bidder/registrations/{registration.public_id}/").status_code == 404
    assert bidder.post(f"/bidder/tenders/{published.pk}/ask/", {"text": "Can we visit the site?"}).status_code == 302
    assert Question.objects.get().asked_by_org == cast.bidder_orgs[0]
    assert bidder.post(f"/bidder/tenders/{published.pk}/object/", {"text": "Clause 9"}).status_code == 302
    assert Objection.objects.count() == 1
    assert bidder.post(f"/bidder/tenders/{published.pk}/ask/", {"text": ""}).status_code == 400
    page = text(bidder.get("/bidder/"))
    assert "Can we visit the site?" in page and "Clause 9" in page
    response = bidder.post(f"/bidder/registrations/{registration.public_id}/withdraw/")
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == "registered"  # refused: the tender is suspended by the objection
    assert Registration.objects.get().status == "registered"


def test_objection_after_cutoff_shows_the_rule(published, cast, clock):
    clock.move_to(published.bid_deadline - 5 * DAY)
    response = login(cast.bidders[0]).post(f"/bidder/tenders/{published.pk}/object/", {"text": "Late"})
    assert response.status_code == 400 and "招标投标法实施条例 Art 22" in text(response)
    assert not Objection.objects.exists()


# --- supervision -----------------------------------------------------------------------------------------------------


def test_supervisor_sees_sealed_lists_and_overdue_objections(published, cast, clock):
    registration_create(actor=cast.bidders[0], lot=published.lots.get())
    question_ask(actor=cast.bidders[1], tender=published, text="Who am I?")
    o = objection_raise(actor=cast.bidders[2], tender=published, text="Unfair")
    anonymous().get(f"/tenders/documents/{published.documents.get().pk}/download/")
    supervisor = login(cast.supervisor)
    page = text(supervisor.get(f"/supervisor/tenders/{published.pk}/"))
    for org in cast.bidder_orgs:
        assert org.name in page
    assert "anonymous" in page
    clock.move_to(o.reply_due_at + timedelta(minutes=1))
    page = text(supervisor.get("/supervisor/tenders/"))
    assert "overdue" in page and cast.bidder_orgs[2].name in page
    # the agent's workspace shows the overdue flag but not the objector
    page = text(login(cast.agent).get(f"/agent/tenders/{published.pk}/"))
    assert "overdue" in page and cast.bidder_orgs[2].name not in page


# --- the whole flow in the pages ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_draft_to_deadline_in_the_pages(cast, clock):
    agent, bidders = login(cast.agent), [login(u) for u in cast.bidders]
    agent.post(
        "/agent/tenders/new/",
        {
            "title": "Water mains",
            "tenderer": cast.tenderer_org.pk,
            "procedure_type": "goods",
            "evaluation_method": "comprehensive_scoring",
            "bid_deadline": local(clock.now() + 21 * DAY),
            "decryption_window_minutes": 30,
            "confirmation_window_minutes": 15,
        },
    )
    tender = Tender.objects.get()
    agent.post(
        f"/agent/tenders/{tender.pk}/lots/", {"title": "Pipes", "estimated_price": "2000000", "deposit_amount": "40000"}
    )
    agent.post(f"/agent/tenders/{tender.pk}/documents/", {"file": pdf()})
    refused = agent.post(f"/agent/tenders/{tender.pk}/publish/", {})
    assert refused.status_code == 400 and "招标投标法 Art 40" in refused.content.decode()
    agent.post(f"/agent/tenders/{tender.pk}/criteria/", {"name_0": "Price", "kind_0": "price", "max_points_0": "40",
                                                          "name_1": "Technical", "kind_1": "scored",
                                                          "max_points_1": "60"})
    assert agent.post(f"/agent/tenders/{tender.pk}/publish/", {}).status_code == 302
    lot = tender.lots.get()
    for b in bidders:
        assert b.post(f"/bidder/lots/{lot.pk}/register/").status_code == 302
    bidders[0].post(f"/bidder/tenders/{tender.pk}/ask/", {"text": "Pipe diameter?"})
    agent.post(f"/agent/questions/{Question.objects.get().pk}/answer/", {"answer": "DN300."})
    assert "DN300." in text(anonymous().get(f"/tenders/{tender.pk}/"))
    assert "sealed" in text(agent.get(f"/agent/tenders/{tender.pk}/"))
    clock.move_to(tender.bid_deadline + timedelta(seconds=1))
    sweep_due_steps()
    sweep_due_steps()
    tender.refresh_from_db()
    assert tender.status == TenderStatus.BIDDING_CLOSED
    page = text(agent.get(f"/agent/tenders/{tender.pk}/"))
    for org in cast.bidder_orgs:
        assert org.name in page  # unsealed for the tender's side after the deadline
    response = bidders[0].post(f"/bidder/lots/{lot.pk}/register/", follow=True)
    assert "registration is closed" in text(response) and Registration.objects.count() == 3
    assert AuditEvent.objects.filter(action="tender.status_changed", data__to="bidding_closed").count() == 1
    assert chain_verify().ok
    call_command("audit", "verify", "--no-progress")
