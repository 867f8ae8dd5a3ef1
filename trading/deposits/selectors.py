"""Deposit reads: statuses (the opening room asks `deposit_status_for`), lists by role, the suspense
list, the reconciliation report. Sealing goes through the policy rules in trading/deposits/policies.py."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from accounts.policy import authorize, can, has_role
from accounts.roles import Role
from audit.models import Receipt
from config.errors import NotFoundError
from trading.deposits.interest import BANK_TZ
from trading.deposits.money import ZERO
from trading.deposits.origins import refund_origin_sealed
from trading.deposits.sealing import deposits_sealed
from trading.models import Registration, Tender
from trading.models.deposit import (
    BankTransaction,
    DepositAccount,
    DepositEntry,
    DepositStatus,
    DepositWarning,
    RefundInstruction,
    StatementImport,
    StatementLine,
    TransferKind,
    TransferOutcome,
)


def deposit_status_for(registration) -> DepositStatus:
    """The deposit status of a registration (none / insufficient / paid / invalid_payer / late /
    guaranteed / refunded / forfeited). No permission check: the caller (the opening room, at
    opening) decides who sees it."""
    reg_id = registration.pk if isinstance(registration, Registration) else int(registration)
    status = DepositAccount.objects.filter(registration_id=reg_id).values_list("status", flat=True).first()
    return DepositStatus(status) if status else DepositStatus.NONE


def deposit_statuses_for_lot(lot) -> dict[int, DepositStatus]:
    """{registration id: status} for every registration of a lot (one query)."""
    statuses = dict(DepositAccount.objects.filter(lot=lot).values_list("registration_id", "status"))
    return {
        reg_id: DepositStatus(statuses.get(reg_id) or DepositStatus.NONE)
        for reg_id in Registration.objects.filter(lot=lot).values_list("pk", flat=True)
    }


def account_get(*, user, public_id) -> DepositAccount:
    """The sub-account with this public id (UUID) if `user` may see it; 404 alike otherwise."""
    account = (
        DepositAccount.objects.select_related("tender", "lot", "bidder", "registration", "tender__tenderer")
        .filter(public_id=public_id)
        .first()
    )
    if account is None or not can(user, "deposit.view_account", account):
        raise NotFoundError("No such deposit sub-account.")
    return account


def accounts_for_user(user) -> QuerySet[DepositAccount]:
    """Bidders: their organisation's sub-accounts. Supervisors: all. Others: none (they use the tender list)."""
    qs = DepositAccount.objects.select_related("tender", "lot", "bidder", "registration").order_by("-created_at", "-pk")
    if has_role(user, Role.SUPERVISOR):
        return qs
    org_id = getattr(user, "organisation_id", None)
    if org_id and has_role(user, Role.BIDDER):
        return qs.filter(bidder_id=org_id)
    return qs.none()


def paid_totals(account_ids) -> dict[int, dict]:
    """Per sub-account, what arrived and what went back, from the ledger (the cached `valid_total`
    falls as refunds are booked, so it cannot say what was paid): valid and invalid arrivals, refunds."""

    from trading.models.deposit import EntryKind

    totals = {pk: {"paid_valid": ZERO, "paid_invalid": ZERO, "refunded": ZERO} for pk in account_ids}
    rows = (DepositEntry.objects.filter(account_id__in=list(totals)).values("account_id")
            .annotate(arrived_ok=Sum("amount", filter=Q(kind=EntryKind.ARRIVAL, valid=True)),
                      arrived_bad=Sum("amount", filter=Q(kind=EntryKind.ARRIVAL, valid=False)),
                      refund_sum=Sum("amount", filter=Q(kind=EntryKind.REFUND))))
    for row in rows:
        totals[row["account_id"]] = {"paid_valid": row["arrived_ok"] or ZERO,
                                     "paid_invalid": row["arrived_bad"] or ZERO,
                                     "refunded": -(row["refund_sum"] or ZERO)}
    return totals


def account_amounts(account: DepositAccount, paid: dict) -> dict:
    """What a deposit page shows of one sub-account: required, paid (valid and not), short by, refunded."""
    required = account.lot.deposit_amount
    covered = paid["paid_valid"] + account.guarantee_amount
    return {**paid, "required": required, "shortfall": max(required - covered, ZERO)}


def deposit_list_for_tender(*, user, tender: Tender) -> list[dict]:
    """Every registration's deposit for a tender: sealed until the deadline but for supervisors."""
    authorize(user, "deposit.view_list", tender)
    accounts = {
        a.registration_id: a for a in DepositAccount.objects.filter(tender=tender).select_related("bidder", "lot")
    }
    paid = paid_totals([a.pk for a in accounts.values()])
    rows = []
    for reg in Registration.objects.filter(tender=tender).select_related("bidder", "lot").order_by("lot__number", "pk"):
        account = accounts.get(reg.pk)
        amounts = account_amounts(account, paid[account.pk]) if account else {
            "paid_valid": ZERO, "paid_invalid": ZERO, "refunded": ZERO, "shortfall": reg.lot.deposit_amount}
        rows.append(
            {
                "registration": reg.pk,
                "lot": reg.lot.number,
                "lot_id": reg.lot_id,
                "bidder": reg.bidder.name,
                "bidder_id": reg.bidder_id,
                "registration_status": reg.status,
                "required": reg.lot.deposit_amount,
                "status": DepositStatus(account.status) if account else DepositStatus.NONE,
                "valid_total": account.valid_total if account else ZERO,
                "guarantee_amount": account.guarantee_amount if account else ZERO,
                "balance": account.balance if account else ZERO,
                "account_id": account.pk if account else None,
                **{k: amounts[k] for k in ("paid_valid", "paid_invalid", "refunded", "shortfall")},
            }
        )
    return rows


def ledger_for(*, user, account: DepositAccount) -> QuerySet[DepositEntry]:
    authorize(user, "deposit.view_account", account)
    return account.entries.select_related("bank_transaction", "instruction").order_by("seq")


def receipts_for_account(*, user, account: DepositAccount) -> list[dict]:
    """The signed booking receipts of `account` (docs/deposits.md, "Booking receipts"), oldest
    first: only for a user of the bidder organisation that holds them, empty for anyone else
    (supervisors included: a receipt is its holder's)."""
    authorize(user, "deposit.view_account", account)
    if getattr(user, "organisation_id", None) != account.bidder_id:
        return []
    rows = Receipt.objects.filter(holder_org_id=account.bidder_id, signed__receipt__deposit_account=account.number,
                                  signed__receipt__receipt_type="deposit.entries_booked").order_by("seq", "created_at")
    return [r.signed for r in rows]


def instructions_for_account(*, user, account: DepositAccount) -> QuerySet[RefundInstruction]:
    authorize(user, "deposit.view_account", account)
    return account.refund_instructions.order_by("-created_at", "-pk")


def suspense_list(*, user, include_resolved: bool = False) -> QuerySet[BankTransaction]:
    authorize(user, "deposit.admin")
    qs = BankTransaction.objects.filter(outcome__in=[TransferOutcome.SUSPENSE, TransferOutcome.RETURNED,
                                                     TransferOutcome.ASSIGNED])
    if not include_resolved:
        qs = qs.filter(outcome=TransferOutcome.SUSPENSE, resolved_at__isnull=True)
    return qs.order_by("-booked_at", "-pk")


def refund_instructions_for(*, user, statuses=None) -> QuerySet[RefundInstruction]:
    """Platform admin and supervisors: the refund instructions (payees masked on sealed tenders in the pages)."""
    if not (can(user, "deposit.admin") or can(user, "deposit.supervise")):
        authorize(user, "deposit.admin")
    qs = RefundInstruction.objects.select_related("tender", "account").order_by("due_at", "pk")
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs


def instruction_is_sealed(instruction: RefundInstruction) -> bool:
    """Payee masked in the lists: a tender whose deposits are sealed, or what a refund origin says."""
    if instruction.origin:
        return refund_origin_sealed(instruction)
    return instruction.tender is not None and deposits_sealed(instruction.tender)


def warnings_for(*, user, open_only: bool = False) -> QuerySet[DepositWarning]:
    authorize(user, "deposit.supervise")
    qs = DepositWarning.objects.select_related("instruction", "tender").order_by("-raised_at", "-pk")
    return qs.filter(acknowledged_at__isnull=True) if open_only else qs


def statements_for(*, user) -> QuerySet[StatementImport]:
    authorize(user, "deposit.admin")
    return StatementImport.objects.order_by("-imported_at", "-pk")


def statement_get(*, user, pk: int) -> StatementImport:
    authorize(user, "deposit.admin")
    statement = StatementImport.objects.filter(pk=pk).first()
    if statement is None:
        raise NotFoundError("No such statement import.")
    return statement


def _period(statement: StatementImport) -> tuple[dt.datetime, dt.datetime] | None:
    if statement.period_start is None:
        return None
    start = dt.datetime.combine(statement.period_start, dt.time.min, tzinfo=BANK_TZ)
    end = dt.datetime.combine(statement.period_end + dt.timedelta(days=1), dt.time.min, tzinfo=BANK_TZ)
    return start, end


def reconciliation_for(*, user, statement: StatementImport) -> dict:
    """The reconciliation report as `user` may read it: the deposit desk sees that a line of a
    still-sealed tender is unmatched, not its sub-account, amount, time or transaction; supervisors
    see everything (docs/deposits.md, "Reconciliation"; docs/accounts.md)."""
    authorize(user, "deposit.admin")
    return reconciliation_report(statement=statement, reveal_sealed=can(user, "deposit.supervise"))


def _sealed_tender_ids(tender_ids: set) -> set:
    tender_ids.discard(None)
    return {t.pk for t in Tender.objects.filter(pk__in=tender_ids) if deposits_sealed(t)}


def reconciliation_report(*, statement: StatementImport, reveal_sealed: bool = False) -> dict:
    """Statement vs ledger for the statement's period (bank-local days):

    - duplicated: a txn_id on more than one statement line;
    - missing_from_statement: transactions the platform booked (from notifications) in the period
      that the statement does not list;
    - mismatched: the same txn_id with another amount, sub-account or direction;
    - statement_only: lines the platform learnt of from the statement alone (no notification);
    - suspense: the period's unresolved suspense transactions;
    - totals per direction on both sides (distinct transactions).

    Unless `reveal_sealed`, a transaction booked to a deposit sub-account of a tender whose bid
    deadline has not passed appears as `{"sealed": true}` (plus its statement line number, which
    the desk has in its own file) and the ledger totals and differences are withheld while any
    such transaction is in the report: per-tender payment facts stay sealed from the desk."""
    lines: dict[str, list] = defaultdict(list)
    for txn_id, line_no, kind, account, amount in StatementLine.objects.filter(statement=statement).values_list(
        "txn_id", "line_no", "kind", "virtual_account", "amount"
    ).order_by("line_no"):
        lines[txn_id].append((line_no, kind, account, amount))
    period = _period(statement)
    ledger: dict[str, tuple] = {}
    if period:
        for row in BankTransaction.objects.filter(booked_at__gte=period[0], booked_at__lt=period[1]).values_list(
            "txn_id", "kind", "virtual_account", "amount", "booked_at", "notified", "outcome", "resolved_at",
            "account__tender_id",
        ):
            ledger[row[0]] = row
    outside = [t for t in lines if t not in ledger]
    for start in range(0, len(outside), 5000):
        for row in BankTransaction.objects.filter(txn_id__in=outside[start : start + 5000]).values_list(
            "txn_id", "kind", "virtual_account", "amount", "booked_at", "notified", "outcome", "resolved_at",
            "account__tender_id",
        ):
            ledger[row[0]] = row

    sealed_tenders = set() if reveal_sealed else _sealed_tender_ids({row[8] for row in ledger.values()})
    sealed_txns = {t for t, row in ledger.items() if row[8] in sealed_tenders}

    def seal(item: dict) -> dict:
        return item if item.get("txn_id") not in sealed_txns else {
            "sealed": True, **({"line": item["line"]} if "line" in item else {})}

    duplicated, mismatched, statement_only, not_booked = [], [], [], []
    totals = {"statement": {"credit": ZERO, "debit": ZERO}, "ledger": {"credit": ZERO, "debit": ZERO}}
    for txn_id, occurrences in lines.items():
        line_no, kind, account, amount = occurrences[0]
        side = "credit" if kind == TransferKind.ARRIVAL else "debit"
        totals["statement"][side] += amount
        if len(occurrences) > 1:
            duplicated.append({"txn_id": txn_id, "lines": [o[0] for o in occurrences], "amount": amount,
                               "virtual_account": account})
        booked = ledger.get(txn_id)
        if booked is None:
            not_booked.append({"txn_id": txn_id, "line": line_no, "amount": amount, "virtual_account": account})
            continue
        if (booked[1], booked[2], booked[3]) != (kind, account, amount):
            mismatched.append({"txn_id": txn_id, "line": line_no, "statement": {"kind": kind, "amount": amount,
                               "virtual_account": account},
                               "ledger": {"kind": booked[1], "amount": booked[3], "virtual_account": booked[2]}})
        elif not booked[5]:
            statement_only.append({"txn_id": txn_id, "line": line_no, "amount": amount, "virtual_account": account})
    missing, suspense = [], []
    in_period = {k: v for k, v in ledger.items() if period and period[0] <= v[4] < period[1]}
    for txn_id, row in sorted(in_period.items(), key=lambda kv: kv[1][4]):
        side = "credit" if row[1] == TransferKind.ARRIVAL else "debit"
        totals["ledger"][side] += row[3]
        if txn_id not in lines:
            missing.append({"txn_id": txn_id, "kind": row[1], "amount": row[3], "virtual_account": row[2],
                            "booked_at": row[4]})
        if row[6] == TransferOutcome.SUSPENSE and row[7] is None:
            suspense.append({"txn_id": txn_id, "amount": row[3], "virtual_account": row[2], "booked_at": row[4]})
    difference = {side: totals["statement"][side] - totals["ledger"][side] for side in ("credit", "debit")}
    balanced = not (duplicated or missing or mismatched or not_booked) and difference == {
        "credit": Decimal(0), "debit": Decimal(0)}
    if sealed_txns:
        duplicated, missing, mismatched, not_booked, statement_only, suspense = (
            [seal(item) for item in items]
            for items in (duplicated, missing, mismatched, not_booked, statement_only, suspense))
        totals = {"statement": totals["statement"], "ledger": None}
        difference = None
    return {
        "statement": statement.pk,
        "period_start": statement.period_start,
        "period_end": statement.period_end,
        "lines": statement.line_count,
        "errors": statement.errors,
        "distinct_transactions": len(lines),
        "duplicated": duplicated,
        "missing_from_statement": missing,
        "mismatched": mismatched,
        "not_booked": not_booked,
        "statement_only": statement_only,
        "suspense": suspense,
        "totals": totals,
        "difference": difference,
        "balanced": balanced,
    }
