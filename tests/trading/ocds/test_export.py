"""OCDS 1.1 export: releases per stage, the compiled record, sealing, the public endpoints, and offline
validation against the official 1.1.5 schema with zero errors."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import timedelta

import pytest
from django.test import override_settings

from tests.trading.evaluation.helpers import concluded
from tests.trading.ocds.validation import require_standard_zip
from trading.evaluation.services import award as award_services
from trading.evaluation.services import publicity as pub
from trading.models import Notice, NoticeKind, TenderDocument
from trading.ocds import packages
from trading.ocds.mapping import number, releases_of
from trading.ocds.merge import compile_releases, merge_value
from trading.ocds.validation import validate_package
from trading.services.scheduling import steps_run_due

pytestmark = pytest.mark.django_db
PREFIX = "ocds-7tr4de"


def _publish_parts(w, clock):
    """What a published tender has besides its row: the tender notice and a document."""
    Notice(tender=w.tender, kind=NoticeKind.TENDER, version=1, title=f"{w.tender.code} tender notice",
           body="Open tender.", published_at=w.tender.published_at, published_by=w.agent).save()
    content = b"%PDF-1.4 bidding documents"
    TenderDocument.objects.create(tender=w.tender, name="bidding-documents.pdf", file="tenders/x/doc.pdf",
                                  sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                                  content_type="application/pdf", uploaded_at=w.tender.published_at,
                                  uploaded_by=w.agent)


def full_tender(w, fake, clock):
    _publish_parts(w, clock)
    fake.opened_at = w.tender.bid_deadline + timedelta(minutes=40)
    concluded(w, fake)
    publicity = pub.publicity_start(actor=w.agent, tender=w.tender)
    clock.move_to(publicity.ends_at + timedelta(seconds=1))
    steps_run_due()
    [award] = award_services.award_publish(actor=w.agent, tender=w.tender)
    clock.advance(days=5)
    award_services.contract_record(actor=w.tenderer, award=award, signed_at=clock.now() - timedelta(hours=1))
    w.tender.refresh_from_db()
    return award


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_a_full_tender_exports_valid_ocds_release_and_record_packages(make_world, fake, clock, no_network):
    require_standard_zip()
    w = make_world()
    award = full_tender(w, fake, clock)
    package = packages.release_package([w.tender], uri="https://example.gov.cn/api/v1/ocds/releases?tender=1")
    releases = package["releases"]
    assert [r["tag"] for r in releases] == [["tender"], ["award"], ["contract"]]
    assert {r["ocid"] for r in releases} == {f"{PREFIX}-{w.tender.code}"}
    assert len({r["id"] for r in releases}) == 3 and package["version"] == "1.1"
    tender = releases[0]["tender"]
    assert tender["status"] == "complete" and tender["numberOfTenderers"] == 4
    assert tender["value"] == {"amount": 5000000, "currency": "CNY"}
    doc_ids = {d["id"] for d in tender["documents"]}
    assert hashlib.sha256(b"%PDF-1.4 bidding documents").hexdigest() in doc_ids
    assert all(n.content_sha256 in doc_ids for n in w.tender.notices.exclude(kind=NoticeKind.AWARD_RESULT))
    roles = {p["name"]: p["roles"] for p in releases[0]["parties"]}
    assert roles["City Works Bureau"] == ["buyer"] and roles["Agent Consulting Co"] == ["procuringEntity"]
    assert roles["Bidder C Ltd"] == ["tenderer", "supplier"] and roles["Bidder A Ltd"] == ["tenderer"]
    [ocds_award] = releases[1]["awards"]
    assert ocds_award["suppliers"][0]["name"] == "Bidder C Ltd" and ocds_award["value"]["amount"] == 100
    [contract] = releases[2]["contracts"]
    assert contract["awardID"] == ocds_award["id"] and contract["dateSigned"].endswith("Z")
    # Nothing from the evaluation's sealed side (scores, members) is in the export.
    text = json.dumps(package, ensure_ascii=False)
    assert "expert" not in text and "score" not in text and w.experts[0].username not in text

    result = validate_package(package)
    assert result.ok, result.problems()
    assert result.validation_errors == []

    record_package = packages.record_package([w.tender], uri="https://example.gov.cn/api/v1/ocds/records/x")
    [record] = record_package["records"]
    compiled = record["compiledRelease"]
    assert compiled["tag"] == ["compiled"] and compiled["tender"]["status"] == "complete"
    assert compiled["awards"][0]["id"] == ocds_award["id"] and compiled["contracts"][0]["id"] == contract["id"]
    assert len(compiled["parties"]) == 6  # buyer, agent and four tenderers, merged by id
    result = validate_package(record_package)
    assert result.ok, result.problems()
    assert award.tender_id == w.tender.pk


def test_bidders_and_awards_stay_out_until_they_are_public(make_world, fake, clock):
    w = make_world()
    _publish_parts(w, clock)
    [release] = releases_of(w.tender)
    assert "tenderers" not in release["tender"] and "numberOfTenderers" not in release["tender"]
    assert [p["roles"] for p in release["parties"]] == [["buyer"], ["procuringEntity"]]
    fake.opened_at = clock.now()
    concluded(w, fake)
    pub.publicity_start(actor=w.agent, tender=w.tender)
    [release] = releases_of(w.tender)  # candidates are published, but no award yet
    assert release["tender"]["numberOfTenderers"] == 4 and "awards" not in release
    w.tender.status, w.tender.published_at = "draft", None
    w.tender.save(update_fields=["status", "published_at"])
    assert releases_of(w.tender) == []


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_public_endpoints_and_streamed_bulk_file(make_world, fake, clock, api, no_network):
    require_standard_zip()
    w = make_world()
    full_tender(w, fake, clock)
    other = make_world()  # published, bids not yet opened
    _publish_parts(other, clock)
    by_code = api.get("/api/v1/ocds/releases", {"tender": w.tender.code})
    assert by_code.status_code == 200 and by_code["Content-Type"].startswith("application/json")
    assert by_code.json()["uri"].startswith("http://testserver/api/v1/ocds/releases")
    assert by_code.json()["releases"] == api.get("/api/v1/ocds/releases", {"tender": w.tender.pk}).json()["releases"]
    assert api.get("/api/v1/ocds/releases").status_code == 400
    assert api.get("/api/v1/ocds/releases", {"tender": "nope"}).status_code == 404
    record = api.get(f"/api/v1/ocds/records/{PREFIX}-{w.tender.code}")
    assert record.status_code == 200 and record.json()["records"][0]["ocid"] == f"{PREFIX}-{w.tender.code}"
    assert api.get(f"/api/v1/ocds/records/ocds-other-{w.tender.code}").status_code == 404
    bulk = api.get("/api/v1/ocds/bulk")
    assert bulk.status_code == 200 and bulk.streaming
    assert "attachment" in bulk["Content-Disposition"]
    data = json.loads(b"".join(bulk.streaming_content))
    assert sorted({r["ocid"] for r in data["releases"]}) == sorted(
        [f"{PREFIX}-{w.tender.code}", f"{PREFIX}-{other.tender.code}"])
    result = validate_package(data)
    assert result.ok, result.problems()


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_the_validator_does_catch_errors(make_world, fake, clock, no_network):
    require_standard_zip()
    w = make_world()
    _publish_parts(w, clock)
    package = packages.release_package([w.tender], uri="https://example.gov.cn/x")
    assert validate_package(package).ok
    broken = copy.deepcopy(package)
    broken["releases"][0]["tender"]["value"]["amount"] = "5000000.00"  # a string, not a number
    del broken["releases"][0]["date"]
    result = validate_package(broken)
    assert not result.ok and len(result.validation_errors) >= 2
    closed = copy.deepcopy(package)
    closed["releases"][0]["tender"]["status"] = "evaluating"  # not in the closed tenderStatus codelist
    assert not validate_package(closed).ok


def test_the_default_ocid_prefix_is_a_placeholder_that_fails_conformance(make_world, fake, clock, no_network):
    require_standard_zip()
    w = make_world()
    _publish_parts(w, clock)
    package = packages.release_package([w.tender], uri="https://example.gov.cn/x")
    assert package["releases"][0]["ocid"].startswith("ocds-XXXXXX-")
    result = validate_package(package)
    assert result.validation_errors == [] and result.conformance_errors  # register a real prefix


def test_merge_by_identifier_and_replacement():
    a = {"ocid": "o", "id": "1", "date": "2026-01-01T00:00:00Z", "tag": ["tender"],
         "parties": [{"id": "p1", "roles": ["buyer"]}, {"id": "p2", "roles": ["tenderer"], "name": "B"}],
         "tender": {"id": "t", "status": "active", "lots": [{"id": "lot-1", "title": "One"}]}}
    b = {"ocid": "o", "id": "2", "date": "2026-02-01T00:00:00Z", "tag": ["award"],
         "parties": [{"id": "p2", "roles": ["tenderer", "supplier"]}, {"id": "p3", "roles": ["tenderer"]}],
         "tender": {"id": "t", "status": "complete", "description": None}, "awards": [{"id": "a1"}]}
    compiled = compile_releases([b, a])  # order by date, not by argument
    assert compiled["id"] == "o-2026-02-01T00:00:00Z" and compiled["tag"] == ["compiled"]
    assert compiled["parties"] == [{"id": "p1", "roles": ["buyer"]},
                                   {"id": "p2", "roles": ["tenderer", "supplier"], "name": "B"},
                                   {"id": "p3", "roles": ["tenderer"]}]
    assert compiled["tender"] == {"id": "t", "status": "complete", "lots": [{"id": "lot-1", "title": "One"}]}
    assert merge_value(["x"], ["y", "z"]) == ["y", "z"]


def test_amounts_are_exact_json_numbers():
    from decimal import Decimal

    assert number(Decimal("5000000.00")) == 5000000 and isinstance(number(Decimal("5000000.00")), int)
    assert number(Decimal("1234567.89")) == 1234567.89
    with pytest.raises(ValueError):
        number(Decimal("12345678901234567.89"))


def test_the_declared_extension_and_the_publication_policy_are_served(api):
    from trading.ocds.validation import EXTENSION_FILES

    package = packages.release_package([], uri="https://example.gov.cn/x")
    [url] = package["extensions"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    extension = api.get("/" + path)
    assert extension.status_code == 200 and json.loads(extension.content)["codelists"] == ["bidStatus.csv"]
    for name in EXTENSION_FILES["bids"]:
        assert api.get(f"/open-data/ocds/extensions/bids/{name}").status_code == 200
    assert api.get("/open-data/ocds/extensions/bids/../validation.py").status_code == 404
    assert api.get("/open-data/ocds/extensions/other/extension.json").status_code == 404
    policy = api.get("/open-data/ocds/publication-policy")
    assert policy.status_code == 200 and policy["Content-Type"].startswith("text/markdown")
    assert package["publicationPolicy"].endswith("/open-data/ocds/publication-policy")
    assert package["publisher"]["name"] == "市公共资源交易中心" and package["license"].startswith("https://")
