"""Tender documents: hashed, versioned uploads; free download without login, recorded."""

import hashlib
from datetime import timedelta

import pytest

from audit.models import AuditEvent
from config.errors import DomainError, NotPermitted, RuleViolation, StateConflict
from tests.trading.helpers import pdf
from trading.models import DocumentDownload
from trading.services.documents import document_upload, document_withdraw


def test_upload_records_hash_size_and_versions(make_draft, cast):
    tender = make_draft(document=False)
    content = b"%PDF-1.4 version one"
    d1 = document_upload(actor=cast.agent, tender=tender, file=pdf("spec.pdf", content))
    assert d1.sha256 == hashlib.sha256(content).hexdigest() and d1.size == len(content) and d1.version == 1
    assert d1.content_type == "application/pdf"
    d2 = document_upload(actor=cast.agent, tender=tender, file=pdf("spec.pdf", b"%PDF-1.4 version two"))
    d1.refresh_from_db()
    assert d2.version == 2 and d1.superseded and not d2.superseded
    with d2.file.open("rb") as f:
        assert f.read() == b"%PDF-1.4 version two"
    events = AuditEvent.objects.filter(action="document.uploaded").order_by("seq")
    assert [e.data["sha256"] for e in events] == [d1.sha256, d2.sha256]
    assert events.last().data["size"] == d2.size and events.last().data["supersedes"] == d1.pk


def test_upload_refusals(make_draft, cast, settings):
    tender = make_draft(document=False)
    with pytest.raises(DomainError, match="empty"):
        document_upload(actor=cast.agent, tender=tender, file=pdf("x.pdf", b""))
    settings.TENDER_DOCUMENT_MAX_BYTES = 10
    with pytest.raises(DomainError, match="larger"):
        document_upload(actor=cast.agent, tender=tender, file=pdf("x.pdf", b"0123456789A"))
    with pytest.raises(NotPermitted):
        document_upload(actor=cast.bidders[0], tender=tender, file=pdf())
    assert not tender.documents.exists()


AMEND = {"amendment_title": "Amendment 1: revised drawings", "amendment_body": "Drawing D-3 is replaced."}


def test_upload_after_deadline_refused(published, cast, clock):
    document_upload(actor=cast.agent, tender=published, file=pdf("addendum.pdf"), **AMEND)
    clock.move_to(published.bid_deadline)
    with pytest.raises(RuleViolation):
        document_upload(actor=cast.agent, tender=published, file=pdf("late.pdf"), **AMEND)


def test_document_change_after_publication_is_an_amendment(published, cast):
    """Issue 16: a replaced document after publication was accepted silently; now it needs an amendment."""
    from trading.models import Notice, NoticeKind

    original = published.documents.get()
    with pytest.raises(RuleViolation) as refused:
        document_upload(actor=cast.agent, tender=published, file=pdf(original.name, b"%PDF-1.4 changed"))
    assert refused.value.code == "amendment_required" and "招标投标法 Art 23" in refused.value.message
    original.refresh_from_db()
    assert not original.superseded and published.documents.count() == 1
    assert not Notice.objects.filter(tender=published, kind=NoticeKind.AMENDMENT).exists()
    # 30 days left: the amendment is published and the deadline stays
    deadline = published.bid_deadline
    doc = document_upload(actor=cast.agent, tender=published, file=pdf(original.name, b"%PDF-1.4 changed"), **AMEND)
    published.refresh_from_db()
    notice = Notice.objects.get(tender=published, kind=NoticeKind.AMENDMENT)
    assert doc.amendment == notice and doc.version == 2 and notice.title == AMEND["amendment_title"]
    assert published.bid_deadline == deadline
    event = AuditEvent.objects.filter(action="document.uploaded").latest("seq")
    assert event.data["amendment"] == notice.pk


def test_document_change_with_less_than_15_days_left_must_move_the_deadline(published, cast, clock):
    """11.9 legal days before the deadline: refused with a proposed deadline, accepted when it moves."""
    from trading.models import Notice, NoticeKind

    clock.move_to(published.bid_deadline - timedelta(days=11.9))
    with pytest.raises(RuleViolation) as refused:
        document_upload(actor=cast.agent, tender=published, file=pdf("spec.pdf", b"%PDF-1.4 v2"), **AMEND)
    assert refused.value.code == "deadline_extension_required"
    assert published.documents.count() == 1 and not Notice.objects.filter(kind=NoticeKind.AMENDMENT).exists()
    new_deadline = clock.now() + timedelta(days=16)
    doc = document_upload(actor=cast.agent, tender=published, file=pdf("spec.pdf", b"%PDF-1.4 v2"),
                          new_deadline=new_deadline, **AMEND)
    published.refresh_from_db()
    assert published.bid_deadline == new_deadline and doc.amendment.new_deadline == new_deadline


def test_document_change_through_the_api_needs_the_amendment(published, cast, api):
    api.force_authenticate(cast.agent)
    url = f"/api/v1/tenders/{published.pk}/documents"
    response = api.post(url, {"file": pdf("extra.pdf")}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "amendment_required"
    response = api.post(url, {"file": pdf("extra.pdf"), **AMEND}, format="multipart")
    assert response.status_code == 201, response.content


def test_withdraw_only_in_draft(make_draft, published, cast):
    tender = make_draft()
    doc = tender.documents.get()
    document_withdraw(actor=cast.agent, document=doc)
    doc.refresh_from_db()
    assert doc.superseded
    with pytest.raises(StateConflict):
        document_withdraw(actor=cast.agent, document=published.documents.get())


def test_anonymous_download_without_registration(published, api):
    doc = published.documents.get()
    response = api.get(f"/api/v1/documents/{doc.pk}/download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 tender documents\n"
    assert response["X-Content-SHA256"] == doc.sha256
    assert "attachment" in response["Content-Disposition"]
    download = DocumentDownload.objects.get()
    assert download.user is None and download.document == doc and download.tender == published


def test_logged_in_download_is_recorded_with_organisation(published, api, cast):
    doc = published.documents.get()
    assert api.as_user(cast.bidders[0]).get(f"/api/v1/documents/{doc.pk}/download").status_code == 200
    download = DocumentDownload.objects.get()
    assert download.organisation == cast.bidder_orgs[0] and download.user == cast.bidders[0]


def test_download_outside_availability_refused(published, api, clock, cast):
    doc = published.documents.get()
    clock.move_to(published.documents_available_until + timedelta(seconds=1))
    response = api.get(f"/api/v1/documents/{doc.pk}/download")
    assert response.status_code == 409 and response.json()["error"]["code"] == "documents_unavailable"
    assert not DocumentDownload.objects.exists()
    # the tender's side and supervisors keep access to the record
    assert api.as_user(cast.supervisor).get(f"/api/v1/documents/{doc.pk}/download").status_code == 200


def test_draft_documents_are_not_public(make_draft, api, cast):
    doc = make_draft().documents.get()
    assert api.get(f"/api/v1/documents/{doc.pk}/download").status_code == 404
    assert api.get("/api/v1/documents/999999/download").status_code == 404
    assert api.as_user(cast.agent).get(f"/api/v1/documents/{doc.pk}/download").status_code == 200
