"""The bank simulator command signs real notifications and POSTs them to a running server."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from trading.deposits import bankmsg, conf
from trading.models.deposit import DepositAccount


@pytest.mark.django_db
def test_dry_run_prints_a_verifiable_signed_request(registered):
    _, regs = registered
    out = io.StringIO()
    call_command("deposits", "simulate-bank", "--registration", str(regs[0].pk), "--amount", "100000.00",
                 "--dry-run", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("/api/v1/deposits/bank-notifications")
    headers = dict(line.split(": ", 1) for line in lines[1:3])
    body = lines[3].encode()
    import time

    bankmsg.verify(secrets=conf.webhook_secrets(), timestamp=headers[bankmsg.TIMESTAMP_HEADER],
                   signature=headers[bankmsg.SIGNATURE_HEADER], body=body, now=time.time())
    data = json.loads(body)
    assert data["virtual_account"] == regs[0].deposit_account.number
    assert data["counterparty"]["account_number"] == regs[0].bidder.basic_account_number


@pytest.mark.django_db(transaction=True)
def test_simulator_against_a_live_server(registered, live_server, settings):
    settings.BANK_WEBHOOK_SECRET = None  # both sides fall back to the secret derived from SECRET_KEY
    _, regs = registered
    out = io.StringIO()
    call_command("deposits", "simulate-bank", "--registration", str(regs[0].pk), "--amount", "100000.00",
                 "--url", live_server.url, stdout=out)
    assert out.getvalue().startswith("200 ")
    assert json.loads(out.getvalue()[4:])["status"] == "paid"
    assert DepositAccount.objects.get(registration=regs[0]).status == "paid"
