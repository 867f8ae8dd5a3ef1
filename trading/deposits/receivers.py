"""Refunds triggered by changes the deposits module does not make itself (imported by trading/apps.py).

- A registration withdrawn before the deadline (trading/services/registrations.py) → refund within
  5 days of the withdrawal (招标投标法实施条例 Art 35), as for a withdrawn bid.
- A tender that fails (流标) or is cancelled → refund everyone promptly (实施条例 Art 31).

Both run inside the transaction that saved the change, so they commit or roll back with it.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from trading.deposits.services.refunds import (
    deposit_refunds_schedule_after_termination,
    deposit_refunds_schedule_after_withdrawal,
)
from trading.models import Registration, RegistrationStatus, Tender, TenderStatus
from trading.models.deposit import DepositAccount

ENDED = (TenderStatus.FAILED, TenderStatus.CANCELLED)


def _status_saved(created: bool, update_fields) -> bool:
    return not created and (update_fields is None or "status" in update_fields)


@receiver(post_save, sender=Registration, dispatch_uid="deposits.registration_withdrawn")
def registration_withdrawn(sender, instance: Registration, created: bool, update_fields=None, **kwargs) -> None:
    if instance.status != RegistrationStatus.WITHDRAWN or not _status_saved(created, update_fields):
        return
    if DepositAccount.objects.filter(registration=instance, balance__gt=0, forfeited_at__isnull=True).exists():
        deposit_refunds_schedule_after_withdrawal(instance, withdrawn_at=instance.updated_at)


@receiver(post_save, sender=Tender, dispatch_uid="deposits.tender_ended")
def tender_ended(sender, instance: Tender, created: bool, update_fields=None, **kwargs) -> None:
    if instance.status not in ENDED or not _status_saved(created, update_fields):
        return
    pending = DepositAccount.objects.filter(tender=instance, balance__gt=0, forfeited_at__isnull=True).exclude(
        refund_trigger="termination"
    )
    if pending.exists():
        deposit_refunds_schedule_after_termination(instance, instance.updated_at)
