"""Input the database or the parser cannot hold is a 4xx JSON error everywhere; an unhandled
exception under /api/ is a JSON 500 (issue 15 finding 7, issue 20 item 5; docs/api.md)."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from audit.models import AuditEvent
from trading.models import Tender

pytestmark = pytest.mark.django_db

NEW_TENDER = {"title": "Road", "procedure_type": "works", "bid_deadline": "2099-01-01T00:00:00Z"}


def _error(response) -> str:
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:300])
    return response.json()["error"]["code"]


@pytest.mark.parametrize("url", [
    "/api/v1/ocds/releases?tender=%00",
    "/api/v1/tenders?search=%00",
    "/api/v1/notices?q=a%00b",
    "/api/v1/tenders?x%00=1",
    "/api/v1/audit/events?kind=%00",
])
def test_nul_in_query_string_is_refused_anonymously(url):
    response = Client().get(url)
    assert response.status_code == 400 and _error(response) == "invalid_text"


@pytest.mark.parametrize("url", [
    "/api/v1/experts/pool?search=%00",
    "/api/v1/deposits/refund-instructions?status=%00",
    "/api/v1/deposits/refund-instructions/%00/reissue",
])
def test_nul_in_query_or_path_is_refused_for_staff(api, make_user, url):
    admin = make_user("platform_admin", "supervisor")
    response = api.as_user(admin).get(url)
    assert response.status_code == 400 and _error(response) == "invalid_text"


def test_nul_in_a_page_query_string_is_a_400_not_a_500():
    response = Client().get("/notices/?q=%00")
    assert response.status_code == 400


def test_nul_in_a_page_form_is_a_400_not_a_500(make_user):
    make_user("bidder", username="formuser")
    response = Client().post("/accounts/login/", "username=form%00user&password=x",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


@pytest.mark.parametrize("title", ["a\x00b", "a\ud800b", "\udfff"])
def test_json_text_the_database_cannot_store_is_refused(api, cast, title):
    before = AuditEvent.objects.count()
    body = json.dumps({**NEW_TENDER, "tenderer": cast.tenderer_org.pk, "title": title})  # \u0000, \ud800 escapes
    response = api.as_user(cast.agent).post("/api/v1/tenders", body, content_type="application/json")
    assert response.status_code == 400 and _error(response) == "invalid_text"
    assert not Tender.objects.exists() and AuditEvent.objects.count() == before


def test_json_nested_5000_deep_is_refused(api, cast):
    body = '{"title": ' + "[" * 5000 + "]" * 5000 + "}"
    response = api.as_user(cast.agent).post("/api/v1/tenders", body, content_type="application/json")
    assert response.status_code == 400 and _error(response) == "parse_error"
    body = '{"title": ' + "[" * 40 + "]" * 40 + "}"  # parses, but deeper than any body the API takes
    response = api.as_user(cast.agent).post("/api/v1/tenders", body, content_type="application/json")
    assert response.status_code == 400 and _error(response) == "parse_error"
    assert not Tender.objects.exists()


def test_form_body_to_a_json_endpoint_is_415(api, cast, published):
    client = api.as_user(cast.bidders[0])
    response = client.post(f"/api/v1/tenders/{published.pk}/opening/commands", "command=sign_in&x=1",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and _error(response) == "unsupported_media_type"
    response = client.post(f"/api/v1/tenders/{published.pk}/opening/commands", {"command": "sign_in"},
                           format="multipart")
    assert response.status_code == 415 and _error(response) == "unsupported_media_type"


def test_body_over_the_parser_limit_is_a_json_413(api, cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({**NEW_TENDER, "tenderer": cast.tenderer_org.pk, "description": "x" * 5000})
    response = api.as_user(cast.agent).post("/api/v1/tenders", body, content_type="application/json")
    assert response.status_code == 413 and _error(response) == "too_large"
    assert not Tender.objects.exists()


def test_too_many_form_fields_in_an_upload_is_a_json_413(api, cast, make_draft, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    tender = make_draft()
    data = {f"f{i}": "x" for i in range(20)}
    response = api.as_user(cast.agent).post(f"/api/v1/tenders/{tender.pk}/documents", data, format="multipart")
    assert response.status_code == 413 and _error(response) == "too_large"


def test_nul_in_a_multipart_field_is_refused(api, cast, make_draft):
    from django.core.files.uploadedfile import SimpleUploadedFile

    tender = make_draft()
    count = tender.documents.count()
    response = api.as_user(cast.agent).post(
        f"/api/v1/tenders/{tender.pk}/documents",
        {"title": "Spec\x00", "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4\n", content_type="application/pdf")},
        format="multipart")
    assert response.status_code == 400 and _error(response) == "invalid_text"
    assert tender.documents.count() == count


def test_an_unhandled_exception_under_api_is_a_logged_json_500(monkeypatch, make_user, caplog):
    from accounts import api as accounts_api

    def boom(self, request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(accounts_api.MeView, "get", boom)
    client = Client(raise_request_exception=False)
    client.force_login(make_user("bidder"))
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/api/v1/me")
    assert response.status_code == 500 and _error(response) == "server_error"
    assert b"secret internals" not in response.content and b"Traceback" not in response.content
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)


def test_a_500_outside_a_view_under_api_is_json():
    from django.test import RequestFactory

    from config.api import handler500

    response = handler500(RequestFactory().get("/api/v1/me"))
    assert response.status_code == 500 and json.loads(response.content)["error"]["code"] == "server_error"
    page = handler500(RequestFactory().get("/notices/"))
    assert page.status_code == 500 and not page["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("when", ["9999-12-30T23:59:59Z", "0001-01-01T00:00:00+08:00", "1999-12-31T00:00:00Z",
                                  "2100-01-01T00:00:00Z"])
def test_dates_outside_the_sane_range_are_refused(api, cast, when):
    response = api.as_user(cast.agent).post("/api/v1/tenders", {**NEW_TENDER, "tenderer": cast.tenderer_org.pk,
                                                                "bid_deadline": when}, format="json")
    assert response.status_code == 400 and _error(response) == "invalid"
    assert "bid_deadline" in response.json()["error"]["fields"]
    assert not Tender.objects.exists()
