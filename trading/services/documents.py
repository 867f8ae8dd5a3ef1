"""Tender documents: versioned uploads with SHA-256 and size; free download, recorded but sealed.

After publication a document changes only through an amendment (招标投标法 Art 23; 实施条例 Art 21):
`document_upload` on a published tender needs the amendment's title and rationale, publishes the
amendment notice (`amendment_publish`, which applies the 15-day rule: less than 15 days left and the
deadline must move, or the change is refused with the proposed deadline) and links the new version
to it (`TenderDocument.amendment`), all in one transaction.

Downloads need no registration and no login (电子招标投标办法 Art 20). Each one is
stored as a `DocumentDownload` row; who downloaded and how many is shown only
through trading/visibility.py (sealed until the deadline, Art 21). Downloads are
not audit events: the count of such events would itself disclose how many
downloaded before the deadline, and a download changes no state of the tender.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from datetime import datetime

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.policy import authorize, can
from audit.services import audit_record
from config.errors import DomainError, RuleViolation, StateConflict
from trading import clock
from trading.models import DocumentDownload, Tender, TenderDocument, TenderStatus
from trading.policies import is_party, is_supervisor
from trading.rules import DOCUMENT_CHANGE_IS_AMENDMENT, FREE_DOWNLOAD
from trading.services.deadlines import assert_before_deadline
from trading.services.tender_status import lock_tender

DEFAULT_MAX_DOCUMENT_BYTES = 200 * 1024 * 1024
UPLOAD_STATES = (TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.SUSPENDED)


def max_document_bytes() -> int:
    return int(getattr(settings, "TENDER_DOCUMENT_MAX_BYTES", DEFAULT_MAX_DOCUMENT_BYTES))


def clean_document_name(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable())
    if not name or name in {".", ".."}:
        raise DomainError(_("A document needs a file name."), fields={"name": ["required"]})
    return name[:200]


def _hash_file(f) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    f.seek(0)
    for chunk in f.chunks() if hasattr(f, "chunks") else iter(lambda: f.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    f.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def document_upload(
    *,
    actor,
    tender: Tender,
    file,
    name: str | None = None,
    content_type: str | None = None,
    amendment_title: str = "",
    amendment_body: str = "",
    new_deadline: datetime | None = None,
) -> TenderDocument:
    """Store a new document, or a new version of the document with the same name.

    On a published tender this is an amendment: `amendment_title` and `amendment_body` (what changes
    and why) are required, the amendment notice is published first (15-day rule, `new_deadline` when
    it must move) and the new version is linked to it."""
    from trading.services.notices import amendment_publish

    authorize(actor, "tender.manage", tender)
    lock_tender(tender)
    if tender.status not in UPLOAD_STATES:
        raise StateConflict(
            _("Tender %(code)s is %(status)s: documents can no longer change.")
            % {"code": tender.code, "status": tender.get_status_display()},
            code="not_open",
        )
    name = clean_document_name(name or getattr(file, "name", ""))
    amendment = None
    if tender.status != TenderStatus.DRAFT:
        assert_before_deadline(tender, what=_("Changing the tender documents"))
        if not (amendment_title or "").strip() or not (amendment_body or "").strip():
            msg = _(
                "The tender is published: a document change is an amendment (%(src)s). Give the amendment "
                "notice's title and what changes; the platform publishes it and applies the 15-day rule to "
                "the bid deadline."
            ) % {"src": DOCUMENT_CHANGE_IS_AMENDMENT}
            raise RuleViolation(
                msg, code="amendment_required", fields={"amendment_title": [msg], "amendment_body": [msg]}
            )
        amendment = amendment_publish(
            actor=actor,
            tender=tender,
            title=amendment_title,
            body=amendment_body,
            affects_preparation=True,
            new_deadline=new_deadline,
        )
    elif new_deadline is not None or (amendment_title or "").strip():
        raise DomainError(
            _("A draft's documents change without an amendment; set the deadline on the draft itself."),
            fields={"new_deadline": ["only after publication"]},
        )
    sha256, size = _hash_file(file)
    if size == 0:
        raise DomainError(_("The file is empty."), fields={"file": ["empty"]})
    if size > max_document_bytes():
        raise DomainError(
            _("The file is larger than %(n)s bytes.") % {"n": max_document_bytes()}, fields={"file": ["too large"]}
        )
    content_type = (
        content_type
        or getattr(file, "content_type", None)
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )[:120]
    previous = TenderDocument.objects.filter(tender=tender, name=name, superseded=False).first()
    version = (TenderDocument.objects.filter(tender=tender, name=name).aggregate(v=Max("version"))["v"] or 0) + 1
    if previous:
        previous.superseded = True
        previous.save(update_fields=["superseded"])
    doc = TenderDocument(
        tender=tender,
        name=name,
        version=version,
        sha256=sha256,
        size=size,
        content_type=content_type,
        uploaded_at=clock.now(),
        uploaded_by=actor,
        amendment=amendment,
    )
    doc.file.save(name, File(file), save=False)
    doc.save()
    audit_record(
        actor=actor,
        action="document.uploaded",
        obj=doc,
        data={
            "tender": tender.pk,
            "document": doc.pk,
            "name": name,
            "version": version,
            "sha256": sha256,
            "size": size,
            "supersedes": previous.pk if previous else None,
            "tender_status": tender.status,
            "amendment": amendment.pk if amendment else None,
        },
    )
    return doc


@transaction.atomic
def document_withdraw(*, actor, document: TenderDocument) -> TenderDocument:
    """Remove a document from a draft (marks it superseded; files and history stay)."""
    tender = document.tender
    authorize(actor, "tender.manage", tender)
    lock_tender(tender)
    if tender.status != TenderStatus.DRAFT:
        raise StateConflict(_("Published documents are changed by uploading a new version."), code="not_draft")
    if not document.superseded:
        document.superseded = True
        document.save(update_fields=["superseded"])
        audit_record(
            actor=actor,
            action="document.withdrawn",
            obj=document,
            data={"tender": tender.pk, "document": document.pk, "sha256": document.sha256},
        )
    return document


def downloadable(user, document: TenderDocument) -> bool:
    """Policy plus the availability window; the tender's side and supervisors may always download."""
    if not can(user, "document.download", document):
        return False
    tender = document.tender
    if is_party(user, tender) or is_supervisor(user):
        return True
    now = clock.now()
    return bool(
        tender.documents_issued_at
        and tender.documents_issued_at <= now
        and (tender.documents_available_until is None or now <= tender.documents_available_until)
    )


@transaction.atomic
def document_download_record(*, user, document: TenderDocument, ip: str | None = None) -> DocumentDownload:
    """Check that `user` (anonymous allowed) may download `document` now, and record the download."""
    authorize(user, "document.download", document)
    if not downloadable(user, document):
        tender = document.tender
        until = tender.documents_available_until
        when = timezone.localtime(until).strftime("%Y-%m-%d %H:%M:%S %Z") if until else "-"
        raise StateConflict(
            _("The tender documents were available until %(t)s (%(src)s).") % {"t": when, "src": FREE_DOWNLOAD},
            code="documents_unavailable",
        )
    authenticated = getattr(user, "is_authenticated", False)
    return DocumentDownload.objects.create(
        document=document,
        tender_id=document.tender_id,
        user=user if authenticated else None,
        organisation_id=getattr(user, "organisation_id", None) if authenticated else None,
        ip=ip,
        downloaded_at=clock.now(),
    )
