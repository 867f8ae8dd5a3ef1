"""Refund instructions on the bank side: the export to the bank, re-issuing a failed refund, the
overdue check at the legal deadline, and the supervisors' acknowledgement of the warning it raises."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.services import audit_record
from config.errors import StateConflict
from trading import clock
from trading.deposits.booking import REFUND_OVERDUE, new_reference
from trading.deposits.money import ZERO, fmt
from trading.deposits.sealing import deposit_record
from trading.deposits.vaccount import normalize_account_number
from trading.models.deposit import (
    OPEN_REFUND_STATUSES,
    DepositWarning,
    RefundInstruction,
    RefundItem,
    RefundStatus,
    WarningKind,
)
from trading.services.scheduling import step_schedule

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
        due_at=old.due_at, created_at=clock.now(), origin=old.origin, origin_ref=old.origin_ref,
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
