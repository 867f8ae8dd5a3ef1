"""The registration's virtual deposit sub-account (opened by the registration's deposit instructions)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from config.errors import StateConflict
from trading import clock
from trading.deposits import conf
from trading.deposits.sealing import deposit_record, sealed_refs
from trading.deposits.vaccount import make_virtual_account
from trading.models import Registration
from trading.models.deposit import DepositAccount


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
