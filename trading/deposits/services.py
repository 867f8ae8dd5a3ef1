"""Deposit services: every write of the deposits module (docs/deposits.md).

Entry points other modules call:
- `deposit_account_open(registration=...)`: the registration's virtual sub-account (deposit hook).
- `deposit_refunds_schedule_after_withdrawal(registration, withdrawn_at=None)`
- `deposit_refunds_schedule_after_award(tender, award_notice_at, *, lot=None, winners=None)`
- `deposit_refunds_schedule_after_contract(tender, contract_signed_at, *, lot=None)`
- `deposit_refunds_schedule_after_termination(tender, terminated_at=None, *, lot=None)`
- `deposit_forfeit(registration, reason, *, source=None, note="")`
The first positional arguments may also be given by keyword (the opening and the bids
modules call them so); everything else is keyword-only.

The bank's two reporting paths: `bank_notification_receive` (webhook) and
`statement_import` (CSV); both book through `trading.deposits.booking.transfers_book`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.models import AuditEvent
from audit.services import audit_record
from config.errors import DomainError, NotFoundError, RuleViolation, StateConflict
from credit.rules import RecordKind
from credit.services import record_propose
from trading import clock
from trading.deposits import bankmsg, conf, guarantee
from trading.deposits.booking import (
    REFUND_DUE,
    REFUND_OVERDUE,
    BookResult,
    Ledger,
    book_arrival,
    lock_accounts,
    new_reference,
    refresh_status,
    transfers_book,
)
from trading.deposits.errors import DepositFormatError, SignatureRefused
from trading.deposits.fastsql import insert_rows
from trading.deposits.interest import BANK_TZ
from trading.deposits.money import ZERO, fmt
from trading.deposits.sealing import deposit_record, sealed_refs
from trading.deposits.statement import LineError, iter_statement
from trading.deposits.vaccount import make_virtual_account, normalize_account_number
from trading.models import Registration, Tender, TenderStatus
from trading.models.deposit import (
    OPEN_REFUND_STATUSES,
    BankMessage,
    BankTransaction,
    DepositAccount,
    DepositEntry,
    DepositWarning,
    EntryKind,
    ForfeitReason,
    GuaranteeIssuer,
    GuaranteeLetter,
    RefundInstruction,
    RefundItem,
    RefundPurpose,
    RefundStatus,
    StatementImport,
    StatementLine,
    TransferKind,
    TransferOutcome,
    TransferSource,
    WarningKind,
)
from trading.rules import (
    DEPOSIT_BEFORE_DEADLINE,
    DEPOSIT_FORFEIT_REFUSED_CONTRACT,
    DEPOSIT_FORFEIT_REVOKED,
    DEPOSIT_VALIDITY,
    deposit_refund_rules,
)
from trading.services.scheduling import step_schedule
from trading.visibility import identity_hash

STATEMENT_CHUNK = 20000


# --- sub-accounts -------------------------------------------------------------------------------------


@transaction.atomic
def deposit_account_open(*, registration: Registration) -> DepositAccount:
    """The registration's virtual sub-account, created on first call (a random number, unique)."""
    existing = DepositAccount.objects.filter(registration=registration).first()
    if existing is not None:
        return existing
    now = clock.now()
    prefix = conf.virtual_account_prefix()
    for _attempt in range(10):
        try:
            with transaction.atomic():
                account = DepositAccount.objects.create(
                    registration=registration,
                    tender_id=registration.tender_id,
                    lot_id=registration.lot_id,
                    bidder_id=registration.bidder_id,
                    number=make_virtual_account(prefix),
                    created_at=now,
                    updated_at=now,
                )
            break
        except IntegrityError:
            existing = DepositAccount.objects.filter(registration=registration).first()
            if existing is not None:  # a concurrent call opened it
                return existing
    else:  # pragma: no cover - ten collisions in 10^12 numbers
        raise StateConflict("Could not allocate a virtual sub-account; try again.", code="account_allocation")
    account.tender = registration.tender
    deposit_record(
        actor="system",
        action="deposit.account_opened",
        obj=f"trading.lot:{registration.lot_id}",
        data={"tender": registration.tender_id, **sealed_refs(account)},
    )
    return account


# --- the bank's notifications ----------------------------------------------------------------------------


class BankRefused(DomainError):
    """A bank message refused before anything was booked (401: signature, 409: replay)."""

    status = 401
    code = "bad_signature"


def bank_verify(*, body: bytes, timestamp: str | None, signature: str | None) -> bankmsg.VerifiedMessage:
    try:
        return bankmsg.verify(
            secrets=conf.webhook_secrets(),
            timestamp=timestamp,
            signature=signature,
            body=body,
            now=clock.now().timestamp(),
            tolerance=conf.webhook_tolerance(),
        )
    except SignatureRefused as exc:
        raise BankRefused(exc.message, code=exc.code) from None


def _remember_message(verified: bankmsg.VerifiedMessage, *, txn_id: str = "", result: str = "") -> None:
    """Record the signed payload's digest; the same payload again is a replay (409)."""
    try:
        with transaction.atomic():
            BankMessage.objects.create(
                digest=verified.digest,
                signed_at=datetime.fromtimestamp(verified.timestamp, tz=BANK_TZ),
                received_at=clock.now(),
                txn_id=txn_id,
                result=result,
            )
    except IntegrityError:
        raise BankRefused(
            _("This signed message was received before: replays are refused."), code="replayed", status=409
        ) from None


def bank_notification_receive(*, body: bytes, timestamp: str | None, signature: str | None) -> BookResult:
    """The webhook: verify the HMAC and freshness, refuse replays, book the transfer (idempotent on txn_id)."""
    verified = bank_verify(body=body, timestamp=timestamp, signature=signature)
    try:
        transfer = bankmsg.parse_notification(body)
    except DepositFormatError as exc:
        raise DomainError(exc.message, code=exc.code, fields={exc.field: [exc.message]} if exc.field else None) \
            from None
    for attempt in range(3):
        try:
            with transaction.atomic():
                _remember_message(verified, txn_id=transfer.txn_id)
                result = transfers_book([transfer], source=TransferSource.WEBHOOK)[0]
                if result.result == "conflict":
                    raise StateConflict(
                        _("Transaction %(txn)s was reported before with other content.") % {"txn": transfer.txn_id},
                        code="txn_conflict",
                    )
                BankMessage.objects.filter(digest=verified.digest).update(result=result.result)
                return result
        except IntegrityError:
            # Two new transactions with one txn_id raced on the unique constraint: the retry sees the winner.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# --- statements ------------------------------------------------------------------------------------------


def _read(data) -> bytes:
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
    raw = _read(data)
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


# --- suspense ----------------------------------------------------------------------------------------------


def _lock_txn(txn: BankTransaction) -> BankTransaction:
    return BankTransaction.objects.select_for_update().get(pk=txn.pk)


@transaction.atomic
def suspense_resolve(
    *, actor, txn: BankTransaction, action: str, account_number: str = "", note: str = ""
) -> BankTransaction:
    """Resolve a suspense transaction: "return" it to the payer, "assign" it to a sub-account the admin
    identified (booked as if the bank had named it), or "close" a debit with a note."""
    authorize(actor, "deposit.admin")
    txn = _lock_txn(txn)
    if not txn.in_suspense:
        raise StateConflict(_("This transaction is not in the suspense list."), code="not_in_suspense")
    now = clock.now()
    ledger = Ledger(now=now, source="suspense")
    if action == "return":
        if txn.kind != TransferKind.ARRIVAL:
            raise StateConflict(_("Only arrivals can be returned."), code="not_an_arrival")
        rule = deposit_refund_rules("works").return_invalid
        ledger.instruct(
            account=None,
            purpose=RefundPurpose.SUSPENSE_RETURN,
            trigger="suspense",
            legal_source=rule.source,
            principal=txn.amount,
            value_dates=[(txn.amount, txn.booked_at)],
            payee=(txn.counterparty_account, txn.counterparty_name, txn.counterparty_bank),
            from_account=txn.virtual_account,
            due_at=rule.after(now),
            bank_transaction=txn,
        )
        txn.outcome = TransferOutcome.RETURNED
    elif action == "assign":
        if txn.kind != TransferKind.ARRIVAL:
            raise StateConflict(_("Only arrivals can be assigned to a sub-account."), code="not_an_arrival")
        number = normalize_account_number(account_number)
        account = next(iter(lock_accounts(numbers=[number]).values()), None)
        if account is None:
            raise NotFoundError(_("No virtual sub-account %(n)s.") % {"n": number}, code="unknown_account")
        book_arrival(ledger, account, txn)
        txn.account, txn.outcome = account, TransferOutcome.ASSIGNED
    elif action == "close":
        if not note.strip():
            raise RuleViolation(_("Closing a suspense item needs a note."), code="note_required")
    else:
        raise DomainError(_("action must be return, assign or close"), code="invalid_action")
    txn.resolved_at, txn.resolved_by, txn.resolution_note = now, actor, note
    txn.save(update_fields=["outcome", "account", "resolved_at", "resolved_by", "resolution_note"])
    ledger.event(
        "deposit.suspense_resolved",
        txn,
        {"tender": txn.account.tender_id if txn.account_id else None, "txn": txn.txn_id, "action": action,
         "amount": txn.amount, "note": note[:500]},
    )
    ledger.flush(actor=actor)
    return txn


# --- guarantee letters -------------------------------------------------------------------------------------


def trusted_issuer_keys() -> dict[str, guarantee.TrustedKey]:
    keys = {}
    for issuer in GuaranteeIssuer.objects.filter(revoked_at__isnull=True):
        key, alg, kid = guarantee.load_public_key(issuer.public_key)
        keys[kid] = guarantee.TrustedKey(key_id=kid, alg=alg, public_key=key, issuer_uscc=issuer.uscc,
                                         issuer_name=issuer.name)
    return keys


@transaction.atomic
def guarantee_issuer_add(*, actor, name: str, uscc: str, public_key: str) -> GuaranteeIssuer:
    """Trust an insurer's or bank's signing key (P-256 or Ed25519, SPKI PEM/DER/base64)."""
    authorize(actor, "deposit.admin")
    try:
        key, alg, kid = guarantee.load_public_key(public_key)
    except DepositFormatError as exc:
        raise DomainError(exc.message, code=exc.code, fields={"public_key": [exc.message]}) from None
    if GuaranteeIssuer.objects.filter(key_id=kid).exists():
        raise StateConflict(_("This key is already registered."), code="duplicate_key")
    issuer = GuaranteeIssuer.objects.create(
        name=name, uscc=uscc.strip().upper(), key_id=kid, alg=alg, public_key=guarantee.spki_b64(key),
        added_by=actor, added_at=clock.now(),
    )
    audit_record(actor=actor, action="deposit.issuer_trusted", obj=issuer,
                 data={"tender": None, "name": name, "uscc": issuer.uscc, "key_id": kid, "alg": alg})
    return issuer


@transaction.atomic
def guarantee_issuer_revoke(*, actor, issuer: GuaranteeIssuer) -> GuaranteeIssuer:
    authorize(actor, "deposit.admin")
    issuer = GuaranteeIssuer.objects.select_for_update().get(pk=issuer.pk)
    if issuer.revoked_at is None:
        issuer.revoked_at = clock.now()
        issuer.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="deposit.issuer_revoked", obj=issuer,
                     data={"tender": None, "key_id": issuer.key_id})
    return issuer


@transaction.atomic
def guarantee_submit(*, actor, account: DepositAccount, document) -> GuaranteeLetter:
    """Accept an electronic guarantee letter (电子保函) in place of the cash deposit, before the deadline."""
    authorize(actor, "deposit.submit_guarantee", account)
    account = next(iter(lock_accounts(pks=[account.pk]).values()))
    tender, lot, now = account.tender, account.lot, clock.deadline_now()
    if now >= tender.bid_deadline or tender.status != TenderStatus.PUBLISHED:
        raise RuleViolation(
            _("A guarantee must be lodged before the bid deadline (%(src)s).") % {"src": DEPOSIT_BEFORE_DEADLINE},
            code="deadline_passed",
        )
    raw = _read(document) if not isinstance(document, (str, dict)) else document
    try:
        letter = guarantee.verify_letter(raw, trusted_issuer_keys())
        guarantee.check_letter(
            letter,
            guarantee.LetterExpectation(
                amount=lot.deposit_amount,
                beneficiary_uscc=tender.tenderer.uscc,
                applicant_uscc=account.bidder.uscc,
                tender=str(tender.pk),
                lot=str(lot.pk),
                at=now,
                cover_until=tender.bid_deadline + timedelta(days=conf.guarantee_validity_days()),
            ),
        )
    except DepositFormatError as exc:
        message = exc.message
        if exc.code == "validity_too_short":
            message = f"{message} ({DEPOSIT_VALIDITY})"
        raise RuleViolation(message, code=exc.code, fields={exc.field or "document": [message]}) from None
    issuer = GuaranteeIssuer.objects.get(key_id=letter.key_id)
    if GuaranteeLetter.objects.filter(sha256=letter.sha256).exists() or GuaranteeLetter.objects.filter(
        issuer=issuer, letter_no=letter.letter_no
    ).exists():
        raise StateConflict(_("This guarantee letter was lodged before."), code="duplicate_letter")
    record = GuaranteeLetter.objects.create(
        account=account, issuer=issuer, letter_no=letter.letter_no, sha256=letter.sha256,
        document=raw if isinstance(raw, dict) else json.loads(raw),
        amount=letter.amount, valid_from=letter.valid_from, valid_until=letter.valid_until, accepted_at=now,
    )
    account.guarantee_amount = max(account.guarantee_amount, letter.amount)
    refresh_status(account)
    account.updated_at = now
    account.save(update_fields=["guarantee_amount", "status", "updated_at"])
    deposit_record(
        actor="system",
        action="deposit.guarantee_accepted",
        obj=f"trading.lot:{lot.pk}",
        data={"tender": tender.pk, **sealed_refs(account), "letter_sha256": letter.sha256, "amount": letter.amount,
              "issuer_key_id": letter.key_id, "valid_until": letter.valid_until,
              "actor_hash": identity_hash(tender, "user", actor.pk)},
    )
    return record


# --- refunds: scheduling (the legal schedule) ------------------------------------------------------------


def _registration_of(registration) -> Registration:
    if isinstance(registration, Registration):
        return registration
    return Registration.objects.get(pk=int(registration))


def _arm(account: DepositAccount, *, trigger: str, at: datetime, deadline: datetime, source: str) -> dict:
    """Record why and by when the account must be refunded and schedule the step that computes the
    refund at once; returns the audit row (callers write the event after every lock is taken)."""
    account.refund_trigger, account.refund_triggered_at = trigger, at
    account.refund_deadline, account.refund_source = deadline, source
    account.updated_at = clock.now()
    account.save(update_fields=["refund_trigger", "refund_triggered_at", "refund_deadline", "refund_source",
                                "updated_at"])
    step_schedule(kind=REFUND_DUE, subject=f"trading.depositaccount:{account.pk}", due_at=clock.now(),
                  tender=account.tender, lot=account.lot)
    return {**sealed_refs(account), "deadline": deadline}


def _record_armed(tender, rows: list[dict], *, trigger: str, at: datetime, source: str) -> None:
    if rows:
        deposit_record(
            actor="system",
            action="deposit.refunds_scheduled",
            obj=f"trading.tender:{tender.pk}",
            data={"tender": tender.pk, "trigger": trigger, "triggered_at": at, "legal_source": source,
                  "accounts": rows},
        )


def _accounts(tender, lot=None, exclude_bidders: Iterable[int] = ()) -> list[DepositAccount]:
    qs = DepositAccount.objects.select_for_update(of=("self",)).filter(tender=tender).select_related(
        "tender", "lot", "bidder", "registration").order_by("pk")
    if lot is not None:
        qs = qs.filter(lot=lot)
    exclude = set(exclude_bidders)
    return [a for a in qs.filter(balance__gt=0) if a.bidder_id not in exclude and a.forfeited_at is None]


@transaction.atomic
def deposit_refunds_schedule_after_withdrawal(registration=None, withdrawn_at: datetime | None = None, *,
                                              actor="system") -> DepositAccount | None:
    """A bid (or registration) withdrawn before the deadline: refund within 5 days (实施条例 Art 35;
    government procurement 5 working days)."""
    registration = _registration_of(registration)
    account = next(iter(lock_accounts(pks=DepositAccount.objects.filter(
        registration=registration).values_list("pk", flat=True)).values()), None)
    if account is None:
        return None
    at = withdrawn_at or clock.now()
    rule = deposit_refund_rules(account.tender.procedure_type).after_withdrawal
    row = _arm(account, trigger="withdrawal", at=at, deadline=rule.after(at), source=rule.source)
    _record_armed(account.tender, [row], trigger="withdrawal", at=at, source=rule.source)
    return account


def _winner_orgs(tender, lot=None) -> set[int]:
    """The awarded bidders (evaluation app's Award), if that app is installed."""
    from django.apps import apps

    try:
        award = apps.get_model("evaluation", "Award")
    except LookupError:  # pragma: no cover - the evaluation app is installed in this project
        return set()
    qs = award.objects.filter(tender=tender).exclude(status="declined")
    if lot is not None:
        qs = qs.filter(lot=lot)
    return set(qs.values_list("bid__bidder_id", flat=True))


def _org_ids(winners) -> set[int]:
    ids = set()
    for w in winners:
        if isinstance(w, Registration):
            ids.add(w.bidder_id)
        elif isinstance(w, int):
            ids.add(w)
        else:
            ids.add(getattr(w, "bidder_id", None) or w.pk)
    return ids


@transaction.atomic
def deposit_refunds_schedule_after_award(tender=None, award_notice_at: datetime | None = None, *, lot=None,
                                         winners=None, actor="system") -> list[DepositAccount]:
    """Government procurement: losers within 5 working days of the award notice (政府采购法实施条例 Art 33).

    Under the Bidding Law losers wait for the contract (实施条例 Art 57): nothing to do here.
    `winners` (registrations, organisations or organisation ids) are kept; by default the
    awarded bidders recorded by the evaluation app."""
    tender = tender if isinstance(tender, Tender) else Tender.objects.get(pk=int(tender))
    rules = deposit_refund_rules(tender.procedure_type)
    if rules.losers_after_award is None:
        return []
    at = award_notice_at or clock.now()
    keep = _org_ids(winners) if winners is not None else _winner_orgs(tender, lot)
    rule = rules.losers_after_award
    armed = _accounts(tender, lot, exclude_bidders=keep)
    rows = [_arm(a, trigger="award", at=at, deadline=rule.after(at), source=rule.source) for a in armed]
    _record_armed(tender, rows, trigger="award", at=at, source=rule.source)
    return armed


@transaction.atomic
def deposit_refunds_schedule_after_contract(tender=None, contract_signed_at: datetime | None = None, *, lot=None,
                                            actor="system") -> list[DepositAccount]:
    """Written contract signed: refund the winner and every loser not yet refunded within 5 days
    (实施条例 Art 57; government procurement: 5 working days, 政府采购法实施条例 Art 33)."""
    tender = tender if isinstance(tender, Tender) else Tender.objects.get(pk=int(tender))
    rule = deposit_refund_rules(tender.procedure_type).after_contract
    at = contract_signed_at or clock.now()
    armed = _accounts(tender, lot)
    rows = [_arm(a, trigger="contract", at=at, deadline=rule.after(at), source=rule.source) for a in armed]
    _record_armed(tender, rows, trigger="contract", at=at, source=rule.source)
    return armed


@transaction.atomic
def deposit_refunds_schedule_after_termination(tender=None, terminated_at: datetime | None = None, *, lot=None,
                                               actor="system") -> list[DepositAccount]:
    """Tender terminated or failed (流标): refund everyone promptly (实施条例 Art 31)."""
    tender = tender if isinstance(tender, Tender) else Tender.objects.get(pk=int(tender))
    rule = deposit_refund_rules(tender.procedure_type).after_termination
    at = terminated_at or clock.now()
    armed = _accounts(tender, lot)
    rows = [_arm(a, trigger="termination", at=at, deadline=rule.after(at), source=rule.source) for a in armed]
    _record_armed(tender, rows, trigger="termination", at=at, source=rule.source)
    return armed


# --- refunds: computation (run by the step) --------------------------------------------------------------


def _uncovered_arrivals(account: DepositAccount) -> list[DepositEntry]:
    return list(
        DepositEntry.objects.filter(account=account, kind=EntryKind.ARRIVAL, refund_item__isnull=True)
        .select_related("bank_transaction")
        .order_by("seq")
    )


def deposit_refund_compute(*, account: DepositAccount) -> list[RefundInstruction]:
    """Instruct the refund of everything the account still holds, with interest to today, to the
    accounts the money came from (the basic account, for valid deposits). Run by the
    `deposit_refund_due` step inside its transaction; idempotent (covered arrivals are skipped)."""
    account = next(iter(lock_accounts(pks=[account.pk]).values()))
    arrivals = _uncovered_arrivals(account)
    if not arrivals or not account.refund_deadline:
        return []
    now = clock.now()
    ledger = Ledger(now=now, source="refund")
    by_payer: dict[tuple[str, str, str], list[DepositEntry]] = {}
    for entry in arrivals:
        txn = entry.bank_transaction
        payee = (txn.counterparty_account, txn.counterparty_name, txn.counterparty_bank) if txn else (
            account.bidder.basic_account_number, account.bidder.basic_account_name, account.bidder.basic_account_bank)
        by_payer.setdefault(payee, []).append(entry)
    made = []
    for payee, covered in by_payer.items():
        made.append(ledger.instruct(
            account=account, purpose=RefundPurpose.REFUND, trigger=account.refund_trigger,
            legal_source=account.refund_source, covered=covered, payee=payee, from_account=account.number,
            due_at=max(account.refund_deadline, now),
        ))
    ledger.flush()
    return made


# --- forfeit ---------------------------------------------------------------------------------------------

_FORFEIT_ALIASES = {
    "bid_revoked": ForfeitReason.BID_REVOKED,
    "revoked": ForfeitReason.BID_REVOKED,
    "decryption_failed": ForfeitReason.BID_REVOKED,
    "winner_refused_contract": ForfeitReason.WINNER_REFUSED,
    "refused_to_sign": ForfeitReason.WINNER_REFUSED,
    "winner_refused": ForfeitReason.WINNER_REFUSED,
}
_FORFEIT_SOURCES = {
    ForfeitReason.BID_REVOKED: DEPOSIT_FORFEIT_REVOKED,
    ForfeitReason.WINNER_REFUSED: DEPOSIT_FORFEIT_REFUSED_CONTRACT,
}


def _forfeit_reason(reason: str, source: str | None) -> tuple[str, str]:
    """(reason code, note) — a known code, or free text whose legal source names Art 35 / Art 74."""
    code = _FORFEIT_ALIASES.get((reason or "").strip().lower())
    if code:
        return code, ""
    src = source or ""
    if "Art 35" in src or "撤销" in (reason or ""):
        return ForfeitReason.BID_REVOKED, reason
    if "Art 74" in src:
        return ForfeitReason.WINNER_REFUSED, reason
    raise RuleViolation(
        _("A deposit is forfeited only for a bid revoked after the deadline (%(a)s) or a winner refusing to "
          "sign the contract (%(b)s).") % {"a": DEPOSIT_FORFEIT_REVOKED, "b": DEPOSIT_FORFEIT_REFUSED_CONTRACT},
        code="forfeit_reason",
    )


@transaction.atomic
def deposit_forfeit(registration=None, reason: str = "", *, source: str | None = None, note: str = "",
                    actor="system") -> DepositAccount | None:
    """Keep the deposit: a bid revoked (decryption failed by the bidder's fault, 实施条例 Art 35) or a
    winner refusing to sign (实施条例 Art 74). Books a forfeit entry with the reason and instructs
    the transfer to the tenderer; a guarantee letter is claimed instead (recorded, no cash moves)."""
    registration = _registration_of(registration)
    code, text = _forfeit_reason(reason, source)
    note = "; ".join(x for x in (text, note) if x)
    account = next(iter(lock_accounts(pks=DepositAccount.objects.filter(
        registration=registration).values_list("pk", flat=True)).values()), None)
    if account is None:
        return None
    if account.forfeited_at is not None:
        return account  # idempotent
    open_valid = RefundItem.objects.filter(entry__account=account, entry__valid=True,
                                           instruction__status__in=OPEN_REFUND_STATUSES,
                                           instruction__purpose=RefundPurpose.REFUND)
    if open_valid.exists():
        raise StateConflict(_("The deposit is already being refunded."), code="refund_in_progress")
    now = clock.now()
    ledger = Ledger(now=now, source="forfeit")
    valid = [e for e in _uncovered_arrivals(account) if e.valid]
    amount = sum((e.amount for e in valid), ZERO)
    legal = _FORFEIT_SOURCES[code]
    ledger.book(account, kind=EntryKind.FORFEIT, amount=-amount, value_at=now, reason=code,
                note=(note or legal)[:2000])
    account.valid_total -= amount
    account.forfeited_total += amount
    account.forfeited_at, account.forfeit_reason = now, code
    if amount > 0:
        tenderer = account.tender.tenderer
        ledger.instruct(
            account=account, purpose=RefundPurpose.FORFEIT_TRANSFER, trigger=code, legal_source=legal,
            covered=valid, payee=(tenderer.basic_account_number, tenderer.basic_account_name,
                                  tenderer.basic_account_bank),
            from_account=account.number, due_at=deposit_refund_rules(
                account.tender.procedure_type).after_contract.after(now),
            with_interest=False,
        )
    ledger.event(
        "deposit.forfeited",
        f"trading.lot:{account.lot_id}",
        {"tender": account.tender_id, **sealed_refs(account), "reason": code, "legal_source": legal,
         "amount": amount, "guarantee_amount": account.guarantee_amount, "note": note[:500]},
    )
    ledger.flush(actor=actor)
    _propose_credit_record(account, code, legal, note)
    return account


def _propose_credit_record(account: DepositAccount, code: str, legal: str, note: str) -> None:
    """The platform saw the fact: propose a bad-conduct record for a supervisor to decide (docs/credit.md)."""
    event = (AuditEvent.objects.filter(action="deposit.forfeited", object=f"trading.lot:{account.lot_id}")
             .order_by("-seq").first())
    kind = RecordKind.REFUSED_TO_SIGN if code == ForfeitReason.WINNER_REFUSED else RecordKind.DEPOSIT_FORFEITED
    record_propose(kind=kind, organisation=account.bidder, source_ref=f"trading.depositaccount:{account.pk}",
                   facts=f"{account.tender.code} lot {account.lot.number}: deposit forfeited ({code}, {legal})"
                         + (f"; {note}" if note else ""),
                   evidence_seqs=[event.seq] if event is not None else [], at=clock.now())


# --- refunds: the bank side --------------------------------------------------------------------------------

EXPORT_COLUMNS = ["reference", "purpose", "from_account", "payee_account", "payee_name", "payee_bank", "principal",
                  "interest", "amount", "currency", "due_at", "legal_source"]


def refund_export_rows(instructions: Iterable[RefundInstruction]) -> list[dict]:
    return [
        {
            "reference": i.reference,
            "purpose": i.purpose,
            "from_account": i.from_account,
            "payee_account": i.payee_account,
            "payee_name": i.payee_name,
            "payee_bank": i.payee_bank,
            "principal": fmt(i.principal),
            "interest": fmt(i.interest),
            "amount": fmt(i.total),
            "currency": "CNY",
            "due_at": i.due_at.isoformat(),
            "legal_source": i.legal_source,
        }
        for i in instructions
    ]


@transaction.atomic
def refund_instructions_export(*, actor, bank: bool = False) -> tuple[list[dict], str]:
    """Hand every open instruction to the bank: rows and their CSV; marks them exported.

    `actor` is a platform administrator, or "system" with `bank=True` for a signed bank request."""
    if not bank:
        authorize(actor, "deposit.admin")
    instructions = list(
        RefundInstruction.objects.select_for_update().filter(status__in=OPEN_REFUND_STATUSES).order_by("due_at", "pk")
    )
    now = clock.now()
    for i in instructions:
        i.status = RefundStatus.EXPORTED
        i.exported_at = i.exported_at or now
        i.export_count += 1
    RefundInstruction.objects.bulk_update(instructions, ["status", "exported_at", "export_count"])
    rows = refund_export_rows(instructions)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    audit_record(
        actor=actor,
        action="deposit.refunds_exported",
        obj="trading.refundinstruction:export",
        data={"tender": None, "count": len(rows), "references": [r["reference"] for r in rows],
              "total": sum((i.total for i in instructions), ZERO), "by_bank_request": bank},
    )
    return rows, out.getvalue()


@transaction.atomic
def bank_refund_export(*, verified: bankmsg.VerifiedMessage) -> list[dict]:
    """The bank's signed request for the open refund instructions (replays refused)."""
    _remember_message(verified, result="refund_export")
    rows, _text = refund_instructions_export(actor="system", bank=True)
    return rows


@transaction.atomic
def refund_instruction_reissue(*, actor, instruction: RefundInstruction, payee_account: str = "",
                               payee_name: str = "", payee_bank: str = "") -> RefundInstruction:
    """A refund the bank could not execute, instructed again (optionally to a corrected account)."""
    authorize(actor, "deposit.admin")
    old = RefundInstruction.objects.select_for_update().get(pk=instruction.pk)
    if old.status != RefundStatus.FAILED:
        raise StateConflict(_("Only a failed refund can be instructed again."), code="not_failed")
    new = RefundInstruction.objects.create(
        reference=new_reference(),
        purpose=old.purpose, trigger=old.trigger, legal_source=old.legal_source, account=old.account,
        bank_transaction=old.bank_transaction, tender=old.tender, from_account=old.from_account,
        payee_account=normalize_account_number(payee_account) or old.payee_account,
        payee_name=payee_name or old.payee_name, payee_bank=payee_bank or old.payee_bank,
        principal=old.principal, interest=old.interest, total=old.total, interest_rate=old.interest_rate,
        day_count_basis=old.day_count_basis, interest_until=old.interest_until, balance_days=old.balance_days,
        due_at=old.due_at, created_at=clock.now(),
    )
    RefundItem.objects.filter(instruction=old).update(instruction=new)
    old.status, old.superseded_by = RefundStatus.SUPERSEDED, new
    old.save(update_fields=["status", "superseded_by"])
    step_schedule(kind=REFUND_OVERDUE, subject=f"trading.refundinstruction:{new.pk}", due_at=new.due_at,
                  tender=new.tender)
    deposit_record(actor=actor, action="deposit.refund_reissued", obj=new,
                 data={"tender": new.tender_id, "instruction": new.reference, "replaces": old.reference,
                       "total": new.total, "payee_changed": new.payee_account != old.payee_account})
    return new


def refund_overdue_check(*, instruction: RefundInstruction) -> str:
    """Run by the `deposit_refund_overdue` step at the legal deadline: warn supervisors if not paid."""
    instruction = (
        RefundInstruction.objects.select_for_update(of=("self",)).select_related("tender").get(pk=instruction.pk)
    )
    if instruction.status == RefundStatus.EXECUTED:
        return "executed in time" if instruction.executed_at <= instruction.due_at else "executed late"
    if instruction.status == RefundStatus.SUPERSEDED:
        return f"superseded by {instruction.superseded_by_id}"
    now = clock.now()
    warning, created = DepositWarning.objects.get_or_create(
        kind=WarningKind.REFUND_OVERDUE, instruction=instruction,
        defaults={"level": "red", "tender": instruction.tender, "raised_at": now,
                  "message": f"Refund {instruction.reference} ({fmt(instruction.total)} CNY) was due "
                             f"{instruction.due_at.isoformat()} ({instruction.legal_source}); status "
                             f"{instruction.status}."[:300]},
    )
    if created:
        instruction.overdue_warned_at = now
        instruction.save(update_fields=["overdue_warned_at"])
        deposit_record(actor="system", action="deposit.refund_overdue", obj=instruction,
                     data={"tender": instruction.tender_id, "instruction": instruction.reference,
                           "due_at": instruction.due_at, "status": instruction.status,
                           "total": instruction.total, "legal_source": instruction.legal_source})
    return "overdue: supervisors warned"


@transaction.atomic
def deposit_warning_acknowledge(*, actor, warning: DepositWarning) -> DepositWarning:
    authorize(actor, "deposit.supervise")
    warning = DepositWarning.objects.select_for_update().get(pk=warning.pk)
    if warning.acknowledged_at is None:
        warning.acknowledged_at, warning.acknowledged_by = clock.now(), actor
        warning.save(update_fields=["acknowledged_at", "acknowledged_by"])
        deposit_record(actor=actor, action="deposit.warning_acknowledged", obj=warning,
                     data={"tender": warning.tender_id, "kind": warning.kind})
    return warning
