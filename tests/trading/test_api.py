"""API conventions: bad input is a 4xx JSON error that changes nothing; permissions; schema."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from trading.models import Lot, Notice, Question, Registration, Tender

BAD_TENDER_INPUTS = [
    {},
    {"title": "x", "tenderer": 999999, "procedure_type": "works", "bid_deadline": "2099-01-01T00:00:00Z"},
    {"title": "x", "tenderer": "abc", "procedure_type": "works", "bid_deadline": "2099-01-01T00:00:00Z"},
    {"title": "x", "procedure_type": "lottery", "bid_deadline": "2099-01-01T00:00:00Z"},
    {"title": "x", "procedure_type": "works", "bid_deadline": "not a date"},
    {"title": "x", "procedure_type": "works", "bid_deadline": "2000-01-01T00:00:00Z"},
    {"title": "x", "procedure_type": "works", "bid_deadline": "2099-01-01T00:00:00Z", "readout_items": "price"},
    {"title": "x", "procedure_type": "works", "bid_deadline": "2099-01-01T00:00:00Z", "readout_items": ["colour"]},
    {"title": "x", "procedure_type": "works", "bid_deadline": "2099-01-01T00:00:00Z", "decryption_window_minutes": 0},
    {"title": "x" * 301, "procedure_type": "works", "bid_deadline": "2099-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("payload", BAD_TENDER_INPUTS)
def test_bad_tender_input(api, cast, payload):
    payload = {"tenderer": cast.tenderer_org.pk, **payload} if "tenderer" not in payload and payload else payload
    before = AuditEvent.objects.count()
    response = api.as_user(cast.agent).post("/api/v1/tenders", payload, format="json")
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert Tender.objects.count() == 0 and AuditEvent.objects.count() == before


BAD_LOT_INPUTS = [
    {"title": "L", "estimated_price": "-1"},
    {"title": "L", "estimated_price": "0"},
    {"title": "L", "estimated_price": "abc"},
    {"title": "L", "estimated_price": "1e400"},
    {"title": "L", "estimated_price": "12345678901234567890.00"},
    {"title": "L", "estimated_price": "100.001"},
    {"title": "L", "estimated_price": "100", "deposit_amount": "-5"},
    {"estimated_price": "100"},
]


@pytest.mark.parametrize("payload", BAD_LOT_INPUTS)
def test_bad_lot_input(api, cast, make_draft, payload):
    tender = make_draft()
    response = api.as_user(cast.agent).post(f"/api/v1/tenders/{tender.pk}/lots", payload, format="json")
    assert response.status_code == 400 and "error" in response.json()
    assert Lot.objects.count() == 1


def test_malformed_json_and_unknown_ids(api, cast, published):
    client = api.as_user(cast.agent)
    response = client.post("/api/v1/tenders", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"
    for url in ("/api/v1/tenders/999999", "/api/v1/lots/999999", "/api/v1/notices/999999", "/api/v1/documents/999999"):
        response = client.get(url)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/questions/999999/answer", {"answer": "x"}).status_code == 404
    assert client.post("/api/v1/objections/999999/reply", {"reply": "x"}).status_code == 404
    assert client.get("/api/v1/notices", {"kind": "bogus"}).status_code == 400
    assert client.get("/api/v1/tenders", {"status": "bogus"}).status_code == 400
    assert client.get("/api/v1/notices", {"tender": "abc"}).status_code == 400


def test_drafts_are_invisible_to_others(api, cast, make_draft, make_user):
    tender = make_draft()
    assert api.get(f"/api/v1/tenders/{tender.pk}").status_code == 404
    assert api.as_user(cast.bidders[0]).get(f"/api/v1/tenders/{tender.pk}").status_code == 404
    assert api.as_user(make_user("agent")).get(f"/api/v1/tenders/{tender.pk}").status_code == 404
    assert api.as_user(cast.tenderer).get(f"/api/v1/tenders/{tender.pk}").status_code == 200
    assert api.as_user(cast.agent).get("/api/v1/tenders").json()["count"] == 1
    api.force_authenticate(None)
    assert api.get("/api/v1/tenders").json()["count"] == 0


def test_only_agents_create_and_edit(api, cast, make_draft):
    payload = {
        "title": "T",
        "tenderer": cast.tenderer_org.pk,
        "procedure_type": "goods",
        "bid_deadline": (timezone.now() + timedelta(days=30)).isoformat(),
    }
    for user in (cast.tenderer, cast.bidders[0], cast.supervisor):
        assert api.as_user(user).post("/api/v1/tenders", payload, format="json").status_code == 403
    api.force_authenticate(None)
    assert api.post("/api/v1/tenders", payload, format="json").status_code in (401, 403)
    tender = make_draft()
    response = api.as_user(cast.tenderer).patch(f"/api/v1/tenders/{tender.pk}", {"title": "Mine"}, format="json")
    assert response.status_code == 403
    response = api.as_user(cast.agent).patch(f"/api/v1/tenders/{tender.pk}", {"title": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Renamed"


def test_draft_crud_and_withdraw(api, cast, make_draft):
    tender = make_draft()
    client = api.as_user(cast.agent)
    lot = client.post(
        f"/api/v1/tenders/{tender.pk}/lots", {"title": "Lot 2", "estimated_price": "1000.00"}, format="json"
    ).json()
    assert lot["number"] == 2
    assert (
        client.patch(f"/api/v1/lots/{lot['id']}", {"deposit_amount": "20.00"}, format="json").json()["deposit_amount"]
        == "20.00"
    )
    assert client.delete(f"/api/v1/lots/{lot['id']}").status_code == 204
    assert client.delete(f"/api/v1/tenders/{tender.pk}").json()["status"] == "cancelled"
    assert client.patch(f"/api/v1/tenders/{tender.pk}", {"title": "x"}, format="json").status_code == 409


def test_publish_rule_errors_over_the_api(api, cast, make_draft):
    tender = make_draft(deadline_in=timedelta(days=10))
    client = api.as_user(cast.agent)
    check = client.get(f"/api/v1/tenders/{tender.pk}/rule-check").json()
    assert check["publishable"] is False and check["problems"][0]["source"] == "招标投标法 Art 24"
    response = client.post(f"/api/v1/tenders/{tender.pk}/publish", {}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "rule_violation" and "招标投标法 Art 24" in error["message"]
    assert "bid_deadline" in error["fields"]
    assert Notice.objects.count() == 0


def test_illegal_transition_is_409(api, cast, published):
    response = api.as_user(cast.agent).post(
        f"/api/v1/tenders/{published.pk}/notices", {"kind": "award_result", "title": "A", "body": "B"}, format="json"
    )
    assert response.status_code == 409 and "'published'" in response.json()["error"]["message"]


def test_bad_inputs_for_participation(api, cast, published):
    lot = published.lots.get()
    bidder = api.as_user(cast.bidders[0])
    assert bidder.post(f"/api/v1/tenders/{published.pk}/questions", {"text": ""}).status_code == 400
    assert bidder.post(f"/api/v1/tenders/{published.pk}/questions", {"text": "x" * 5001}).status_code == 400
    assert bidder.post(f"/api/v1/tenders/{published.pk}/objections", {}).status_code == 400
    assert bidder.post("/api/v1/lots/999999/registrations").status_code == 404
    assert Question.objects.count() == 0 and Registration.objects.count() == 0
    assert bidder.post(f"/api/v1/lots/{lot.pk}/registrations").status_code == 201
    assert bidder.post(f"/api/v1/lots/{lot.pk}/registrations").status_code == 409
    amendment = api.as_user(cast.agent).post(
        f"/api/v1/tenders/{published.pk}/amendments",
        {"title": "A", "body": "B", "affects_preparation": "maybe"},
        format="json",
    )
    assert amendment.status_code == 400


def test_upload_bad_input(api, cast, make_draft):
    tender = make_draft(document=False)
    client = api.as_user(cast.agent)
    assert client.post(f"/api/v1/tenders/{tender.pk}/documents", {}, format="multipart").status_code == 400
    assert (
        client.post(f"/api/v1/tenders/{tender.pk}/documents", {"file": "text"}, format="multipart").status_code == 400
    )
    assert tender.documents.count() == 0


def test_schema_generates_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    trading_paths = [
        p
        for p in schema["paths"]
        if p.startswith(
            (
                "/api/v1/tenders",
                "/api/v1/notices",
                "/api/v1/lots",
                "/api/v1/documents",
                "/api/v1/registrations",
                "/api/v1/questions",
                "/api/v1/objections",
            )
        )
    ]
    assert len(trading_paths) >= 25
    trading_messages = [
        m for m in list(GENERATOR_STATS._warn_cache) + list(GENERATOR_STATS._error_cache) if "trading" in m
    ]
    assert trading_messages == []
