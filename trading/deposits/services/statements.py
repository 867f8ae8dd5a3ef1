"""The bank's daily statement (CSV): stored line by line and booked in chunks through
`trading.deposits.booking.transfers_book`; importing a file again completes an interrupted import."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction

from accounts.policy import authorize
from audit.services import audit_record
from config.errors import DomainError
from trading import clock
from trading.deposits.booking import transfers_book
from trading.deposits.errors import DepositFormatError
from trading.deposits.fastsql import insert_rows
from trading.deposits.interest import BANK_TZ
from trading.deposits.statement import LineError, iter_statement
from trading.models.deposit import StatementImport, StatementLine, TransferSource

STATEMENT_CHUNK = 20000


def read_upload(data) -> bytes:
    """The bytes of an upload: bytes as they are, a Django file by its chunks, any other file-like by read()."""
    if isinstance(data, bytes):
        return data
    if hasattr(data, "chunks"):
        return b"".join(data.chunks())
    return data.read()


def statement_import(
    *, actor, data, file_name: str = "statement.csv", source: str = "upload", chunk_size: int = STATEMENT_CHUNK
) -> StatementImport:
    """Import a daily statement: store its lines, book what is new (in chunks), report the rest.

    Each chunk is its own transaction (webhooks keep flowing meanwhile); the import is
    idempotent, so an interrupted one is completed by importing the file again."""
    if actor != "system":
        authorize(actor, "deposit.admin")
    raw = read_upload(data)
    try:
        parsed = list(iter_statement(raw))
    except DepositFormatError as exc:
        raise DomainError(exc.message, code=exc.code) from None
    lines = [p for p in parsed if not isinstance(p, LineError)]
    errors = [p for p in parsed if isinstance(p, LineError)]
    dates = [t.transfer.booked_at.astimezone(BANK_TZ).date() for t in lines]
    with transaction.atomic():
        statement = StatementImport.objects.create(
            file_name=file_name[:200],
            sha256=hashlib.sha256(raw).hexdigest(),
            period_start=min(dates) if dates else None,
            period_end=max(dates) if dates else None,
            line_count=len(lines) + len(errors),
            error_count=len(errors),
            errors=[{"line": e.line_no, "code": e.code, "message": e.message} for e in errors[:200]],
            imported_by=actor if actor != "system" and getattr(actor, "pk", None) else None,
            imported_at=clock.now(),
            source=source,
        )
        insert_rows(
            StatementLine,
            ("statement_id", "line_no", "txn_id", "kind", "virtual_account", "amount", "booked_at",
             "counterparty_account", "reference"),
            [
                (statement.pk, ln.line_no, ln.transfer.txn_id, ln.transfer.kind, ln.transfer.virtual_account,
                 ln.transfer.amount, ln.transfer.booked_at, ln.transfer.counterparty_account, ln.transfer.reference)
                for ln in lines
            ],
            returning=False,
        )
    counts = {"booked": 0, "duplicate": 0, "conflict": 0, "suspense": 0, "refund_executed": 0, "refund_failed": 0}
    transfers = [ln.transfer for ln in lines]
    cache: dict = {}  # sub-accounts' related objects, loaded once for the whole import
    for start in range(0, len(transfers), chunk_size):
        chunk = transfers[start : start + chunk_size]
        for attempt in range(3):
            try:
                with transaction.atomic():
                    results = transfers_book(chunk, source=TransferSource.STATEMENT, actor=actor, cache=cache)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        for r in results:
            counts[r.result] = counts.get(r.result, 0) + 1
    with transaction.atomic():
        statement.booked_count = counts["booked"] + counts["suspense"] + counts["refund_executed"] + counts[
            "refund_failed"]
        statement.known_count = counts["duplicate"]
        statement.duplicate_count = len(transfers) - len({t.txn_id for t in transfers})
        statement.save(update_fields=["booked_count", "known_count", "duplicate_count"])
        audit_record(
            actor=actor,
            action="deposit.statement_imported",
            obj=statement,
            data={
                "tender": None,
                "statement": statement.pk,
                "sha256": statement.sha256,
                "file_name": statement.file_name,
                "period_start": statement.period_start,
                "period_end": statement.period_end,
                "lines": statement.line_count,
                "errors": statement.error_count,
                "results": counts,
            },
        )
    return statement
