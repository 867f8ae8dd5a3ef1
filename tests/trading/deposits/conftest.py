"""Deposit fixtures: a published tender with registered bidders, a signing bank, transfers."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from trading.deposits import bankmsg
from trading.deposits.bankmsg import Transfer

BANK_SECRET = "test-bank-secret"
_txn = itertools.count(1)


@pytest.fixture(autouse=True)
def _bank_settings(settings):
    settings.BANK_WEBHOOK_SECRET = BANK_SECRET
    settings.DEPOSIT_INTEREST_RATE = Decimal("0.0035")
    settings.DEPOSIT_DAY_COUNT_BASIS = 360


@pytest.fixture
def registered(published, cast):
    """The published works tender (deposit 100,000.00) with the three bidders registered."""
    from trading.services.registrations import registration_create

    lot = published.lots.get()
    regs = [registration_create(actor=b, lot=lot)[0] for b in cast.bidders]
    published.refresh_from_db()
    return published, regs


def make_transfer(account, amount="100000.00", *, payer=None, booked_at=None, txn_id=None, kind="arrival",
                  reference="", status="executed", number=None) -> Transfer:
    from trading import clock

    bidder = account.bidder if account is not None else None
    return Transfer(
        kind=kind,
        txn_id=txn_id or f"BK{next(_txn):08d}",
        virtual_account=number or account.number,
        amount=Decimal(amount),
        booked_at=booked_at or clock.now() - timedelta(seconds=1),
        counterparty_account=payer if payer is not None else (bidder.basic_account_number if bidder else "1"),
        counterparty_name=bidder.basic_account_name if bidder else "Someone",
        counterparty_bank=bidder.basic_account_bank if bidder else "Some Bank",
        reference=reference,
        status=status,
    )


def signed_post(client, body: bytes, *, timestamp=None, secret=BANK_SECRET, path="/api/v1/deposits/bank-notifications",
                headers=None):
    from trading import clock

    ts = int(clock.now().timestamp()) if timestamp is None else timestamp
    hdrs = headers if headers is not None else bankmsg.signed_headers(secret.encode(), body, timestamp=ts)
    return client.post(path, data=body, content_type="application/json",
                       **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in hdrs.items()})


@pytest.fixture
def notify(api):
    """POST a signed notification of `transfer`; returns the response."""

    def send(transfer: Transfer, **kwargs):
        return signed_post(api, bankmsg.notification_body(transfer), **kwargs)

    return send


def real_now() -> int:
    return int(time.time())
