"""Record retention (政府采购法 Art 42, 15 years) and the archive of a finished tender (issue 16)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from tests.trading.helpers import pdf
from trading import retention
from trading.models import Lot, Notice, Tender, TenderDocument
from trading.retention import RetentionRefused, retained_until


def refused(match: str = "政府采购法 Art 42"):
    """A refused delete inside Django's own atomic block poisons the surrounding one: use a savepoint."""
    return _Refused(match)


class _Refused:
    def __init__(self, match: str) -> None:
        self.raises = pytest.raises(RetentionRefused, match=match)
        self.atomic = transaction.atomic()

    def __enter__(self):
        self.raises.__enter__()
        self.atomic.__enter__()

    def __exit__(self, *exc):
        self.atomic.__exit__(*exc)
        return self.raises.__exit__(*exc)


def _terminate(tender, cast):
    from trading.services.notices import result_notice_publish

    result_notice_publish(actor=cast.agent, tender=tender, kind="termination", title="Termination",
                          body="The project was withdrawn by the tenderer.")
    tender.refresh_from_db()
    return tender


def test_a_draft_is_a_working_copy(make_draft):
    tender = make_draft()
    tender.lots.get().delete()
    assert not Lot.objects.filter(tender=tender).exists()


def test_no_record_of_a_published_tender_is_deleted_before_it_ends(published):
    with refused("has not ended"):
        published.documents.get().delete()
    with refused():
        Notice.objects.filter(tender=published).delete()
    with pytest.raises((RetentionRefused, ProtectedError)), transaction.atomic():  # protected rows, or retention
        Tender.objects.filter(pk=published.pk).delete()
    assert published.documents.count() == 1 and Notice.objects.filter(tender=published).exists()


def test_records_are_kept_15_years_from_the_end_then_may_go(published, cast, monkeypatch):
    tender = _terminate(published, cast)
    until = retained_until(tender)
    ended = retention.tender_ended_at(tender)
    assert ended is not None and until == ended.replace(year=ended.year + 15)
    with refused():
        TenderDocument.objects.filter(tender=tender).delete()
    # the sandbox clock does not shorten retention: it is judged on the real clock
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: until - timedelta(seconds=1))
    with refused("kept until"):
        tender.documents.get().delete()
    monkeypatch.setattr(timezone, "now", lambda: until + timedelta(seconds=1))
    retention.retention_assert_deletable(tender)  # past the period: allowed
    monkeypatch.setattr(timezone, "now", real_now)


def test_archive_of_a_finished_tender(published, cast, tmp_path):
    from trading.services.documents import document_upload

    document_upload(actor=cast.agent, tender=published, file=pdf("spec.pdf", b"%PDF-1.4 v2"),
                    amendment_title="Amendment 1", amendment_body="The specification is revised.")
    with pytest.raises(CommandError, match="has not ended"):
        call_command("archive", "export", str(published.pk), "--out", str(tmp_path / "a.zip"), stdout=io.StringIO())
    assert not (tmp_path / "a.zip").exists()
    tender = _terminate(published, cast)
    out = io.StringIO()
    call_command("archive", "export", tender.code, "--out", str(tmp_path / "a.zip"), stdout=out)
    assert f"kept until {retained_until(tender):%Y-%m-%d}" in out.getvalue()
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
        assert {f"documents/{d.name} v{d.version}" for d in tender.documents.all()} <= names
        assert len([n for n in names if n.startswith("documents/")]) == 2  # both versions
        notices = json.loads(archive.read("records/trading.Notice.json"))
        assert {n["kind"] for n in notices} >= {"tender", "amendment", "termination"}
        bundle = archive.read("audit-bundle.jsonl").decode().splitlines()
        assert json.loads(bundle[0])["scope"] == "tender"
        assert any(json.loads(line).get("type") == "event" for line in bundle[1:])
    assert manifest["code"] == tender.code and manifest["status"] == "cancelled"


def test_policy_lists_every_record_kind():
    out = io.StringIO()
    call_command("archive", "policy", stdout=out)
    text = out.getvalue()
    for kind in retention.RECORD_KINDS:
        assert kind.key in text
    assert "15 years" in text and "never deleted" in text


def test_archive_through_the_api_for_the_agent_and_supervisors(published, cast, api):
    url = f"/api/v1/tenders/{published.pk}/archive"
    api.force_authenticate(cast.agent)
    response = api.get(url)
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_finished"
    tender = _terminate(published, cast)
    response = api.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert json.loads(archive.read("manifest.json"))["code"] == tender.code
    api.force_authenticate(cast.supervisor)
    assert api.get(url).status_code == 200
    api.force_authenticate(cast.bidders[0])
    assert api.get(url).status_code == 403
    api.force_authenticate(None)
    assert api.get(url).status_code in (401, 403)
