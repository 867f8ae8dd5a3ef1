"""A whole tender from draft to deadline through the API alone, in real time with sandbox acceleration."""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import chain_verify
from tests.trading.helpers import pdf
from trading.models import ScheduledStep
from trading.tasks import sweep_due_steps

# One legal day lasts 0.1 s: 20 days = 2 s, 15 days = 1.5 s, 10 days = 1 s, 3 days = 0.3 s.
ACCELERATION = 864_000


def iso(moment):
    return moment.isoformat()


def wait_until(moment):
    delay = (moment - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
@override_settings(SANDBOX_TIME_ACCELERATION=ACCELERATION, SANDBOX_ROOM_ACCELERATION=ACCELERATION)
def test_draft_to_deadline_through_the_api(cast, api):
    from rest_framework.test import APIClient

    def client(user=None):
        c = APIClient()
        if user:
            c.force_authenticate(user)
        return c

    agent, public, supervisor = client(cast.agent), client(), client(cast.supervisor)
    bidders = [client(u) for u in cast.bidders]

    # 1. the agent drafts the tender: deadline 2.6 s away = 26 legal days
    deadline = timezone.now() + timedelta(seconds=2.6)
    tender = ok(
        agent.post(
            "/api/v1/tenders",
            {
                "title": "Bridge maintenance",
                "tenderer": cast.tenderer_org.pk,
                "procedure_type": "works",
                "evaluation_method": "comprehensive_scoring",
                "readout_items": ["duration_days", "quality"],
                "bid_deadline": iso(deadline),
            },
            format="json",
        ),
        201,
    )
    tid = tender["id"]
    assert tender["status"] == "draft" and tender["readout_items"] == ["price", "duration_days", "quality"]
    lot = ok(
        agent.post(
            f"/api/v1/tenders/{tid}/lots",
            {"title": "Lot 1", "estimated_price": "5000000.00", "deposit_amount": "100000.00"},
            format="json",
        ),
        201,
    )
    assert lot["max_deposit"] == "100000.00"
    ok(agent.post(f"/api/v1/tenders/{tid}/documents", {"file": pdf()}, format="multipart"), 201)
    check = ok(agent.get(f"/api/v1/tenders/{tid}/rule-check"))
    assert check["publishable"] is False and [p["rule"] for p in check["problems"]] == ["criteria_required"]
    ok(agent.put(f"/api/v1/tenders/{tid}/evaluation-criteria", {"criteria": [
        {"name": "Price", "kind": "price", "max_points": "40"},
        {"name": "Technical proposal", "max_points": "60"}]}, format="json"))
    assert ok(agent.get(f"/api/v1/tenders/{tid}/rule-check"))["publishable"] is True

    # 2. publish
    published = ok(agent.post(f"/api/v1/tenders/{tid}/publish", {}, format="json"))
    assert published["tender"]["status"] == "published" and published["notice"]["kind"] == "tender"
    notices = ok(public.get("/api/v1/notices", {"tender": tid}))
    assert notices["count"] == 1 and notices["results"][0]["content_sha256"] == published["notice"]["content_sha256"]

    # 3. the public downloads the documents without registering; bidders register and ask
    doc = ok(public.get(f"/api/v1/tenders/{tid}/documents"))["results"][0]
    assert public.get(doc["download_url"]).status_code == 200
    for b in bidders:
        created = ok(b.post(f"/api/v1/lots/{lot['id']}/registrations"), 201)
        assert created["deposit_instructions"]["amount"] == "100000.00"
    question = ok(bidders[0].post(f"/api/v1/tenders/{tid}/questions", {"text": "Night work allowed?"}), 201)
    ok(agent.post(f"/api/v1/questions/{question['id']}/answer", {"answer": "Yes, 22:00–06:00."}))
    answers = ok(public.get(f"/api/v1/tenders/{tid}/questions"))["results"]
    assert answers[0]["answer"].startswith("Yes") and answers[0]["asked_by"] is None

    # 4. an objection suspends the tender; the reply resumes it
    objection = ok(bidders[1].post(f"/api/v1/tenders/{tid}/objections", {"text": "Clause 7 is restrictive."}), 201)
    assert ok(public.get(f"/api/v1/tenders/{tid}"))["status"] == "suspended"
    ok(agent.post(f"/api/v1/objections/{objection['id']}/reply", {"reply": "Clause 7 removed."}))
    assert ok(public.get(f"/api/v1/tenders/{tid}"))["status"] == "published"

    # 5. sealed before the deadline: the agent sees no registrations, the supervisor does
    assert agent.get(f"/api/v1/tenders/{tid}/registrations").status_code == 403
    assert ok(supervisor.get(f"/api/v1/tenders/{tid}/registrations"))["count"] == 3
    assert ok(agent.get(f"/api/v1/tenders/{tid}"))["registration_count"] is None

    # 6. a late amendment affecting preparation must move the deadline (15 legal days = 1.5 s)
    wait_until(deadline - timedelta(seconds=1.2))
    refused = agent.post(
        f"/api/v1/tenders/{tid}/amendments",
        {"title": "Amendment 1", "body": "New drawings.", "affects_preparation": True},
        format="json",
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "deadline_extension_required"
    proposal = ok(agent.get(f"/api/v1/tenders/{tid}/amendment-proposal", {"affects_preparation": "true"}))
    assert proposal["required"] is True
    amendment = ok(
        agent.post(
            f"/api/v1/tenders/{tid}/amendments",
            {
                "title": "Amendment 1",
                "body": "New drawings.",
                "affects_preparation": True,
                "new_deadline": proposal["proposed_deadline"],
            },
            format="json",
        ),
        201,
    )
    new_deadline = ok(public.get(f"/api/v1/tenders/{tid}"))["bid_deadline"]
    assert amendment["new_deadline"] == new_deadline

    # 7. the deadline: the beat task's sweep closes bidding, once
    wait_until(timezone.datetime.fromisoformat(new_deadline) + timedelta(milliseconds=50))
    late = bidders[0].post(f"/api/v1/tenders/{tid}/questions", {"text": "Still open?"})
    assert late.status_code == 400 and late.json()["error"]["code"] == "deadline_passed"  # before any task ran
    assert sweep_due_steps.delay().get() == 2  # the bid deadline and the (answered) objection's reply due
    assert sweep_due_steps.delay().get() == 0
    step = ScheduledStep.objects.get(kind="bid_deadline")
    assert step.attempts == 1 and step.result.startswith("closed")
    tender = ok(agent.get(f"/api/v1/tenders/{tid}"))
    assert tender["status"] == "bidding_closed" and tender["sealed"] is False
    assert tender["registration_count"] == 3 and tender["download_count"] == 1
    assert ok(agent.get(f"/api/v1/tenders/{tid}/registrations"))["count"] == 3
    assert bidders[0].post(f"/api/v1/lots/{lot['id']}/registrations").status_code in (400, 409)

    # 8. every state change is in the audit chain, and it verifies
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    # Registrations, questions, objections were sealed events, opened by the deadline's reveal.
    reveal = AuditEvent.objects.get(action="tender.status_changed", data__tender=tid, data__to="bidding_closed")
    actions |= {item["opening"]["action"] for item in reveal.data["sealed"]}
    assert {
        "tender.created",
        "lot.created",
        "document.uploaded",
        "tender.status_changed",
        "notice.published",
        "registration.created",
        "question.asked",
        "question.answered",
        "objection.raised",
        "objection.replied",
        "tender.deadline_moved",
    } <= actions
    assert [e.data["to"] for e in AuditEvent.objects.filter(action="tender.status_changed", data__tender=tid)] == [
        "published",
        "suspended",
        "published",
        "bidding_closed",
    ]
    assert chain_verify().ok
    call_command("audit", "verify", "--no-progress")
