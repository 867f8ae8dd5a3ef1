"""Record retention (政府采购法 Art 42) and the archive of a finished tender (docs/tendering.md, "Retention").

政府采购法 Art 42: 采购人、采购代理机构对政府采购项目每项采购活动的采购文件应当妥善保存，不得伪造、变造、
隐匿或者销毁。采购文件的保存期限为从采购结束之日起至少保存十五年。 The platform applies the same 15 years to
every procedure type (a platform rule for the Bidding Law tenders, whose statutes give no number).

- `RECORD_KINDS`: the retention policy, one row per kind of record (the table in docs/tendering.md).
- `tender_ended_at(tender)`: the end of the procurement, the instant the tender reached a final status
  (contracted, failed, cancelled, archived), read from its `tender.status_changed` audit event.
- `retained_until(tender)`: end + 15 calendar years; None while the tender has not ended.
- `retention_guard` (a `pre_delete` receiver, connected in TradingConfig.ready): refuses to delete any
  record of a published tender (the tender, and every row that leads to it through foreign keys: lots,
  notices, documents, bids, opening, evaluation, award, contract, deposits, draws) while the tender
  has not ended or is inside its retention period. Drafts (never published) are working copies, not
  records: their lots and criteria may still be removed. The audit log is never purged at all (the
  database refuses DELETE on it; docs/audit.md).
- `archive_write(tender, out)`: the archive of a finished tender, a zip (see `archive_write`).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import StateConflict
from trading.rules import YEARS, LegalNumber

# 政府采购法 Art 42 (at least 15 years from the end of the procurement).
RETENTION = LegalNumber(15, YEARS, "政府采购法 Art 42", "records kept from the end of the procurement, at least")
RETENTION_ALL_PROCEDURES = "政府采购法 Art 42 (platform rule for every procedure type)"
FINAL_STATUSES = ("contracted", "failed", "cancelled", "archived")
# Apps whose rows are records of a tender (reached through foreign keys).
RECORD_APPS = ("trading", "evaluation", "experts")
_MAX_HOPS = 4


@dataclass(frozen=True)
class RecordKind:
    key: str
    what: str
    retention: LegalNumber | None  # None: never deleted
    source: str


RECORD_KINDS: tuple[RecordKind, ...] = (
    RecordKind("tender_file", "tender, lots, notices and amendments, every version of the tender documents, "
               "questions and clarifications, objections to the documents", RETENTION, RETENTION_ALL_PROCEDURES),
    RecordKind("participation", "registrations, document downloads, bidding keys", RETENTION,
               RETENTION_ALL_PROCEDURES),
    RecordKind("bids", "sealed envelopes (files), bid rows and receipts, opening keys and shares, opened bids",
               RETENTION, RETENTION_ALL_PROCEDURES),
    RecordKind("opening", "the opening, sign-ins, read-out, confirmations, objections, the signed opening record",
               RETENTION, RETENTION_ALL_PROCEDURES),
    RecordKind("expert_draw", "the draw, its lines, pool snapshot, assignments, calls and answers, panel records",
               RETENTION, RETENTION_ALL_PROCEDURES),
    RecordKind("evaluation", "criteria, the committee, marks and scores, sheets, the signed report, publicity, "
               "objections and complaints", RETENTION, RETENTION_ALL_PROCEDURES),
    RecordKind("award_contract", "the award, letters of award, the contract", RETENTION, RETENTION_ALL_PROCEDURES),
    RecordKind("deposits", "deposit accounts, entries, bank transactions, guarantees, refund instructions",
               RETENTION, RETENTION_ALL_PROCEDURES),
    RecordKind("audit_log", "the hash-chained audit log, checkpoints, witness cosignatures", None,
               "append-only: the database refuses UPDATE and DELETE (docs/audit.md)"),
)


class RetentionRefused(StateConflict):
    code = "retention"


def tender_ended_at(tender) -> datetime | None:
    """When the tender reached its final status (None while it has not)."""
    from audit.models import AuditEvent

    if tender.status not in FINAL_STATUSES:
        return None
    event = (AuditEvent.objects.filter(action="tender.status_changed", object=f"trading.tender:{tender.pk}",
                                       data__to=tender.status).order_by("-seq").first())
    return event.ts if event else tender.updated_at


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def retained_until(tender) -> datetime | None:
    """The end of the tender's retention period; None while the tender has not ended."""
    ended = tender_ended_at(tender)
    return None if ended is None else _add_years(ended, int(RETENTION.value))


def retention_assert_deletable(tender) -> None:
    """Refuse (RetentionRefused) to delete a record of `tender` unless it is a draft's or retention is over."""
    if tender.documents_issued_at is None and tender.published_at is None:
        return  # a draft: working copies, not records yet
    until = retained_until(tender)
    if until is None:
        raise RetentionRefused(
            _("Tender %(code)s has not ended: its records are kept at least %(years)s years from its end (%(src)s).")
            % {"code": tender.code, "years": RETENTION.value, "src": RETENTION.source})
    if timezone.now() < until:
        raise RetentionRefused(
            _("The records of tender %(code)s are kept until %(t)s (%(years)s years from its end, %(src)s).")
            % {"code": tender.code, "t": f"{timezone.localtime(until):%Y-%m-%d}", "years": RETENTION.value,
               "src": RETENTION.source})


def tender_of(instance: models.Model, hops: int = _MAX_HOPS):
    """The tender a record belongs to, following its foreign keys (None: not a tender's record)."""
    from trading.models import Tender

    if isinstance(instance, Tender):
        return instance
    if hops == 0:
        return None
    opts = instance._meta
    fields = [f for f in opts.concrete_fields if f.many_to_one and f.related_model._meta.app_label in RECORD_APPS]
    fields.sort(key=lambda f: f.name != "tender")  # the direct link first
    for field in fields:
        related_id = field.value_from_object(instance)
        if related_id is None:
            continue
        related = field.related_model._default_manager.filter(pk=related_id).first()
        if related is None:
            continue
        found = tender_of(related, hops - 1)
        if found is not None:
            return found
    return None


def retention_guard(sender, instance, **kwargs) -> None:
    """pre_delete: no record of a published tender is deleted inside its retention period."""
    if sender._meta.app_label not in RECORD_APPS:
        return
    tender = tender_of(instance)
    if tender is not None:
        retention_assert_deletable(tender)


def retention_connect() -> None:
    models.signals.pre_delete.connect(retention_guard, dispatch_uid="trading.retention_guard")


# --- The archive ---------------------------------------------------------------------------------


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n").encode()


def _rows(model_label: str, **filters) -> list[dict]:
    model = apps.get_model(model_label)
    return [{f.attname: f.value_from_object(row) for f in model._meta.concrete_fields
             if not isinstance(f, models.FileField)} | _files(row)
            for row in model._default_manager.filter(**filters).order_by("pk")]


def _files(row) -> dict:
    return {f.name: getattr(row, f.name).name for f in row._meta.concrete_fields
            if isinstance(f, models.FileField) and getattr(row, f.name)}


# What the archive holds per table (besides documents/ and audit-bundle.jsonl): label → filter on the tender.
ARCHIVE_TABLES: tuple[tuple[str, str], ...] = (
    ("trading.Tender", "pk"), ("trading.Lot", "tender"), ("trading.Notice", "tender"),
    ("trading.TenderDocument", "tender"), ("trading.Question", "tender"), ("trading.Objection", "tender"),
    ("trading.Registration", "tender"), ("trading.Bid", "tender"), ("trading.Opening", "tender"),
    ("trading.BidOpening", "opening__tender"), ("trading.DepositAccount", "tender"),
    ("trading.RefundInstruction", "tender"), ("evaluation.Criterion", "tender"),
    ("evaluation.EvaluationReport", "tender"), ("evaluation.CandidatePublicity", "tender"),
    ("evaluation.PublicityObjection", "tender"), ("evaluation.Complaint", "tender"), ("evaluation.Award", "tender"),
    ("evaluation.Contract", "tender"), ("experts.Draw", "tender"),
)


def archive_write(*, tender, out: BinaryIO) -> dict:
    """Write the archive of a finished tender as a zip to `out`; returns its manifest.

    Contents: `manifest.json` (tender, end, retained until, every file with SHA-256 and size),
    `records/<app.Model>.json` (the tender's rows of each table in ARCHIVE_TABLES, file fields as
    storage names), `documents/<name> v<version>` (every version of the tender documents, byte for
    byte) and `audit-bundle.jsonl` (the tender's audit events with inclusion proofs against a fresh
    checkpoint: `audit/verifier` checks it offline, docs/audit.md). Only for a tender that has ended."""
    from audit.export import bundle_write

    ended = tender_ended_at(tender)
    if ended is None:
        raise StateConflict(
            _("Tender %(code)s has not ended: only a finished tender is archived.") % {"code": tender.code},
            code="not_finished")
    files: list[dict] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, data: bytes) -> None:
            archive.writestr(name, data)
            files.append({"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})

        for label, field in ARCHIVE_TABLES:
            put(f"records/{label}.json", _json(_rows(label, **{field: tender.pk})))
        for document in tender.documents.order_by("name", "version"):
            with document.file.open("rb") as stream:
                data = stream.read()
            if hashlib.sha256(data).hexdigest() != document.sha256:
                raise StateConflict(_("Document %(name)s v%(v)s does not match its recorded SHA-256.")
                                    % {"name": document.name, "v": document.version}, code="document_altered")
            put(f"documents/{document.name} v{document.version}", data)
        bundle = io.BytesIO()
        bundle_write(bundle, tender=str(tender.pk))
        put("audit-bundle.jsonl", bundle.getvalue())
        manifest = {
            "tender": tender.pk, "code": tender.code, "title": tender.title, "status": tender.status,
            "ended_at": ended.isoformat(), "retained_until": retained_until(tender).isoformat(),
            "retention": f"{RETENTION.describe()} ({RETENTION_ALL_PROCEDURES})",
            "created_at": timezone.now().isoformat(), "files": files,
        }
        archive.writestr("manifest.json", _json(manifest))
    return manifest
