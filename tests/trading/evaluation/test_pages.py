"""The evaluation pages: expert workspace, report by sealing level, public results, objection and complaint
forms with their status, the agent's page and supervision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.trading.evaluation.conftest import readout
from tests.trading.evaluation.helpers import concluded, seat_panel
from trading.evaluation.models import Complaint, PublicityObjection, SessionStatus
from trading.evaluation.services import publicity as pub
from trading.services.scheduling import steps_run_due

pytestmark = pytest.mark.django_db


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def ok(response, status=200):
    assert response.status_code == status, response.content[:2000]
    return response.content.decode()


def test_expert_workspace_from_sign_in_to_signature(make_world, fake, clock):
    w = make_world()
    fake.rows[w.lot.pk] = readout(w, ["300.00", "200.00", "100.00"])
    seat_panel(fake, w)
    agent = client(w.agent)
    ok(agent.post(f"/agent/lots/{w.lot.pk}/evaluation/open/"), 302)
    session = w.lot.evaluation_sessions.get()
    experts = [client(u) for u in w.experts[:5]]
    home = ok(experts[0].get("/expert/evaluations/"))
    assert w.tender.code in home
    url = f"/expert/evaluations/{session.pk}/"
    assert "Sign in to the evaluation" in ok(experts[0].get(url))
    assert ok(client(w.experts[6]).get(url), 404)  # not drawn for this lot
    bids = list(session.bids.order_by("pk"))
    for c in experts:
        ok(c.post(url + "sign-in/"), 302)
        page = ok(c.get(url))
        assert "Bidder A Ltd" in page and "100.00" not in page  # names for the declaration, no prices yet
        ok(c.post(url + "declare/", {"no_conflict": "yes"}), 302)
        page = ok(c.get(url))
        assert "100.00" in page and "Save the qualification" in page
        data = {f"passed_{b.pk}": "yes" for b in bids}
        ok(c.post(url + "marks/", data), 302)
        ok(c.post(url + "submit/"), 302)
    page = ok(experts[0].get(url))
    assert "Your submitted sheet" in page and "Sign the report" in page and "Bidder C Ltd" in page
    for c in experts:
        ok(c.post(url + "sign-report/", {"agrees": "yes"}), 302)
    session.refresh_from_db()
    assert session.status == SessionStatus.CONCLUDED
    assert "You signed this report" in ok(experts[1].get(url))


def test_a_rejection_without_reason_is_refused_on_the_page(make_world, fake, clock):
    w = make_world()
    fake.rows[w.lot.pk] = readout(w, ["300.00", "200.00", "100.00"])
    seat_panel(fake, w)
    ok(client(w.agent).post(f"/agent/lots/{w.lot.pk}/evaluation/open/"), 302)
    session = w.lot.evaluation_sessions.get()
    c = client(w.experts[0])
    url = f"/expert/evaluations/{session.pk}/"
    c.post(url + "sign-in/")
    c.post(url + "declare/", {"no_conflict": "yes"})
    bid = session.bids.first()
    page = ok(c.post(url + "marks/", {f"passed_{bid.pk}": "no"}, follow=True))
    assert "needs the reason" in page


def test_report_page_by_sealing_level(make_world, fake, clock):
    w = make_world()
    _session, report, _members = concluded(w, fake)
    url = f"/evaluation/reports/{report.pk}/"
    assert client().get(url).status_code == 403  # sealed before the publicity
    assert client(w.bidders[0]).get(url).status_code == 403
    summary = ok(client(w.agent).get(url))
    assert "Bidder C Ltd" in summary and "seat 1:" not in summary and "Members and their signed sheets" not in summary
    full = ok(client(w.supervisor).get(url))
    assert "Members and their signed sheets" in full and report.sha256 in full
    pub.publicity_start(actor=w.agent, tender=w.tender)
    public = ok(client().get(url))
    assert "Bidder C Ltd" in public and "Full ranking" not in public and "Members and their signed sheets" not in public
    assert "Members and their signed sheets" in ok(client(w.tenderer).get(url))


def test_public_results_objection_and_complaint_forms(make_world, fake, clock):
    w = make_world()
    concluded(w, fake)
    results = f"/tenders/{w.tender.pk}/results/"
    assert "not published yet" in ok(client().get(results))
    pub.publicity_start(actor=w.agent, tender=w.tender)
    page = ok(client().get(results))
    assert "Bidder C Ltd" in page and "Object to the evaluation result" not in page
    bidder = client(w.bidders[0])
    assert "Object to the evaluation result" in ok(bidder.get(results))
    form = f"/bidder/tenders/{w.tender.pk}/evaluation-objection/"
    assert client(w.citizen).get(form).status_code == 403
    ok(bidder.post(form, {"text": "The scores of C are inconsistent."}), 302)
    objection = PublicityObjection.objects.get()
    status = ok(bidder.get("/bidder/objections-and-complaints/"))
    assert "Open" in status and w.tender.code in status
    agent_page = ok(client(w.agent).get(f"/agent/tenders/{w.tender.pk}/evaluation/"))
    assert "The scores of C are inconsistent." in agent_page
    ok(client(w.agent).post(f"/agent/evaluation-objections/{objection.pk}/reply/", {"reply": "They are consistent."}),
       302)
    objection.refresh_from_db()
    assert objection.status == "replied"
    complaint_form = f"/bidder/tenders/{w.tender.pk}/complaint/"
    ok(bidder.post(complaint_form, {"objection": objection.pk, "text": "The reply ignores clause 4."}), 302)
    complaint = Complaint.objects.get()
    assert "They are consistent." in ok(bidder.get("/bidder/objections-and-complaints/"))
    supervisor = client(w.supervisor)
    assert "The reply ignores clause 4." in ok(supervisor.get("/supervisor/complaints/"))
    assert client(w.agent).get("/supervisor/complaints/").status_code == 403
    ok(supervisor.post(f"/supervisor/complaints/{complaint.pk}/accept/"), 302)
    ok(supervisor.post(f"/supervisor/complaints/{complaint.pk}/decide/",
                       {"decision": "dismissed", "text": "No breach."}), 302)
    complaint.refresh_from_db()
    assert complaint.status == "decided" and "No breach." in ok(bidder.get("/bidder/objections-and-complaints/"))


def test_agent_page_publishes_awards_and_records_the_contract(make_world, fake, clock):
    w = make_world()
    concluded(w, fake)
    agent = client(w.agent)
    url = f"/agent/tenders/{w.tender.pk}/evaluation/"
    assert "Publish the candidates" in ok(agent.get(url))
    assert client(w.bidders[0]).get(url).status_code == 403
    ok(agent.post(f"/agent/tenders/{w.tender.pk}/candidate-publicity/"), 302)
    refused = ok(agent.post(f"/agent/tenders/{w.tender.pk}/award/", follow=True))
    assert "the award follows it" in refused
    w.tender.refresh_from_db()
    clock.move_to(w.tender.publicity_ends_at + timedelta(seconds=1))
    steps_run_due()
    ok(agent.post(f"/agent/tenders/{w.tender.pk}/award/"), 302)
    award = w.tender.awards.get()
    clock.advance(days=2)
    signed = timezone.localtime(clock.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    page = ok(agent.post(f"/agent/awards/{award.pk}/contract/", {"signed_at": signed}, follow=True))
    assert "Contract recorded" in page, page[page.find("messages"):page.find("messages") + 600]
    award.refresh_from_db()
    assert award.status == "contracted"
    results = ok(client().get(f"/tenders/{w.tender.pk}/results/"))
    assert "Bidder C Ltd" in results and "No contract yet." not in results


def test_supervisor_sees_live_drafts(make_world, fake, clock):
    w = make_world()
    fake.rows[w.lot.pk] = readout(w, ["300.00", "200.00", "100.00"])
    seat_panel(fake, w)
    ok(client(w.agent).post(f"/agent/lots/{w.lot.pk}/evaluation/open/"), 302)
    session = w.lot.evaluation_sessions.get()
    c = client(w.experts[0])
    url = f"/expert/evaluations/{session.pk}/"
    c.post(url + "sign-in/")
    c.post(url + "declare/", {"no_conflict": "yes"})
    bid = session.bids.first()
    c.post(url + "marks/", {f"passed_{bid.pk}": "no", f"reason_{bid.pk}": "Expired licence"})
    page = ok(client(w.supervisor).get(f"/supervisor/evaluations/{session.pk}/"))
    assert "Expired licence" in page and "draft" in page
    assert client(w.agent).get(f"/supervisor/evaluations/{session.pk}/").status_code == 403


def test_the_tender_pages_link_to_the_results_and_the_evaluation(make_world, fake, clock):
    w = make_world()
    concluded(w, fake)
    public_page = f"/tenders/{w.tender.pk}/"
    assert f"/tenders/{w.tender.pk}/results/" not in ok(client().get(public_page))
    assert f"/agent/tenders/{w.tender.pk}/evaluation/" in ok(client(w.agent).get(f"/agent/tenders/{w.tender.pk}/"))
    pub.publicity_start(actor=w.agent, tender=w.tender)
    assert f"/tenders/{w.tender.pk}/results/" in ok(client().get(public_page))
