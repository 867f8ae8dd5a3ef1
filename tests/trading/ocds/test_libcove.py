"""libcoveocds with every additional check, offline, on the release and record packages of the demo
tender (a real opening: bids with read-out prices) and of an amended tender: 0 errors, 0 warnings,
except the one documented conformance error of the placeholder ocid prefix (docs/ocds.md)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from tests.trading.evaluation.helpers import concluded
from tests.trading.ocds.test_export import _publish_parts
from tests.trading.ocds.validation import offline, require_standard_zip
from trading.evaluation.services import award as award_services
from trading.evaluation.services import publicity as pub
from trading.ocds import packages
from trading.ocds.mapping import when
from trading.ocds.validation import validate_package
from trading.services.notices import amendment_publish
from trading.services.scheduling import steps_run_due

pytestmark = pytest.mark.django_db
PREFIX = "ocds-7tr4de"


def _validate_both(tender, *, allow_placeholder_prefix=False):
    release_package = packages.release_package([tender], uri="https://example.gov.cn/api/v1/ocds/releases?tender=x")
    record_package = packages.record_package([tender], uri="https://example.gov.cn/api/v1/ocds/records/x")
    with offline():
        for package in (release_package, record_package):
            result = validate_package(json.loads(json.dumps(package)),
                                      allow_placeholder_prefix=allow_placeholder_prefix)
            assert result.errors == [] and result.warnings == [], result.problems()
    return release_package, record_package


def test_demo_tender_release_and_record_packages_have_no_error_and_no_warning(settings, tmp_path):
    from trading.evaluation.models import EvaluationBid
    from trading.models import Tender

    require_standard_zip()
    call_command("demo_tender", "--fast", "--bidders", "4", "--seed", "20261122", "--keys-dir", str(tmp_path / "keys"),
                 stdout=io.StringIO())
    tender = Tender.objects.get()
    assert tender.status == "contracted"
    with override_settings(OCDS_OCID_PREFIX=PREFIX):
        releases, record = _validate_both(tender)
    # The read-out bids are published: one per opened bid, with the price read out.
    [now] = [r for r in releases["releases"] if "bids" in r]
    prices = {str(b.bid_ref): b.price for b in EvaluationBid.objects.filter(session__tender=tender)}
    assert len(now["bids"]["details"]) == 4
    assert {d["status"] for d in now["bids"]["details"]} == {"pending"}
    from trading.models import Bid

    public = dict(Bid.objects.filter(lot__tender=tender).values_list("public_id", "pk"))
    import uuid

    assert sorted(Decimal(str(d["value"]["amount"])) for d in now["bids"]["details"]) == sorted(
        prices[str(public[uuid.UUID(d["id"])])] for d in now["bids"]["details"])
    [award] = record["records"][0]["compiledRelease"]["awards"]
    assert award["relatedBids"][0] in {d["id"] for d in now["bids"]["details"]}
    [contract] = record["records"][0]["compiledRelease"]["contracts"]
    assert all(d["url"].startswith("http") for d in contract.get("documents", []))
    assert releases["publisher"]["name"] == settings.CENTRE_NAME and releases["license"].startswith("https://")
    assert releases["publicationPolicy"].endswith("/open-data/ocds/publication-policy")
    # With the default placeholder prefix the only finding is the documented conformance error.
    _validate_both(tender, allow_placeholder_prefix=True)
    strict = validate_package(packages.release_package([tender], uri="https://example.gov.cn/x"))
    assert strict.errors and set(strict.conformance_errors) == {"ocds_prefixes_bad_format"}
    # The same from the command line: `manage.py ocds_validate --tender CODE`.
    out = io.StringIO()
    with offline():
        call_command("ocds_validate", "--tender", tender.code, "--allow-placeholder-prefix", stdout=out)
    assert out.getvalue().count(": 0 errors, 0 warnings") == 2, out.getvalue()
    path = tmp_path / "release.json"
    path.write_text(json.dumps(packages.release_package([tender], uri="https://example.gov.cn/x")))
    with pytest.raises(CommandError), offline():
        call_command("ocds_validate", str(path), stdout=io.StringIO())  # the placeholder prefix is an error


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_an_amended_tender_publishes_its_amendments_and_validates(make_world, fake, clock):
    from trading.models import TenderStatus

    require_standard_zip()
    w = make_world()
    _publish_parts(w, clock)
    tender = w.tender
    original = clock.now() + timedelta(days=20)
    tender.status, tender.bid_deadline = TenderStatus.PUBLISHED, original
    tender.save(update_fields=["status", "bid_deadline"])
    clock.advance(days=1)
    moved = clock.now() + timedelta(days=25)
    first = amendment_publish(actor=w.agent, tender=tender, title="更正公告：推迟投标截止时间",
                              body="技术规格第 3 节更正。", affects_preparation=True, new_deadline=moved)
    clock.advance(days=2)
    second = amendment_publish(actor=w.agent, tender=tender, title="更正公告：更正联系人",
                               body="联系人电话更正。", affects_preparation=False)
    clock.move_to(moved + timedelta(hours=1))
    tender.refresh_from_db()
    tender.status = TenderStatus.EVALUATING
    tender.save(update_fields=["status"])
    fake.opened_at = moved + timedelta(minutes=40)
    concluded(w, fake)
    publicity = pub.publicity_start(actor=w.agent, tender=tender)
    clock.move_to(publicity.ends_at + timedelta(seconds=1))
    steps_run_due()
    [award] = award_services.award_publish(actor=w.agent, tender=tender)
    clock.advance(days=5)
    award_services.contract_record(actor=w.tenderer, award=award, signed_at=clock.now() - timedelta(hours=1),
                                   document_sha256="ab" * 32)
    tender.refresh_from_db()

    releases, record = _validate_both(tender)
    tags = [r["tag"] for r in releases["releases"]]
    assert tags == [["tender"], ["tenderAmendment"], ["tenderAmendment"], ["tenderUpdate"], ["award"], ["contract"]]
    published, amended1, amended2, now = releases["releases"][:4]
    # The first release holds the values before the amendments: the original deadline.
    assert published["tender"]["tenderPeriod"]["endDate"] == when(original)
    assert amended1["tender"]["tenderPeriod"]["endDate"] == when(moved)
    a1, a2 = now["tender"]["amendments"]
    assert (a1["id"], a1["rationale"], a1["amendsReleaseID"], a1["releaseID"]) == (
        str(first.version), first.title, published["id"], amended1["id"])
    assert (a2["amendsReleaseID"], a2["releaseID"]) == (amended1["id"], amended2["id"])
    assert when(original) in a1["description"] and "投标截止时间" in a1["description"]
    assert a2["rationale"] == second.title
    types = {d["title"]: d["documentType"] for d in now["tender"]["documents"]}
    assert types[first.title] == "biddingDocuments" and types[f"{tender.code} tender notice"] == "tenderNotice"
    assert "bids" not in published and "tenderers" not in amended2["tender"]
    [contract] = releases["releases"][-1]["contracts"]
    assert contract["documents"][0]["url"].endswith(f"/tenders/{tender.pk}/results/#contract-h")
    compiled = record["records"][0]["compiledRelease"]
    assert [a["id"] for a in compiled["tender"]["amendments"]] == [str(first.version), str(second.version)]
