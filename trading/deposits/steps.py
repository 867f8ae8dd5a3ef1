"""Scheduled steps of the deposits module (trading.steps registry; imported by trading/apps.py).

- `deposit_refund_due` (subject "trading.depositaccount:<id>"): armed by the refund scheduling
  services at the triggering event (withdrawal, award notice, contract, termination);
  computes the refund with interest and instructs the bank.
- `deposit_refund_overdue` (subject "trading.refundinstruction:<id>"): due at the legal
  deadline of an instruction; warns supervisors if the bank has not confirmed it.
"""

from __future__ import annotations

from trading.deposits.booking import REFUND_DUE, REFUND_OVERDUE
from trading.deposits.services.instructions import refund_overdue_check
from trading.deposits.services.refunds import deposit_refund_compute
from trading.models import ScheduledStep
from trading.models.deposit import DepositAccount, RefundInstruction
from trading.steps import step_handler


def _subject_pk(step: ScheduledStep) -> int:
    return int(step.subject.rsplit(":", 1)[1])


@step_handler(REFUND_DUE)
def refund_due(step: ScheduledStep):
    account = DepositAccount.objects.get(pk=_subject_pk(step))
    made = deposit_refund_compute(account=account)
    if not made:
        return "nothing to refund"
    return "instructed " + ", ".join(f"{i.reference} {i.total}" for i in made)


@step_handler(REFUND_OVERDUE)
def refund_overdue(step: ScheduledStep):
    return refund_overdue_check(instruction=RefundInstruction.objects.get(pk=_subject_pk(step)))
