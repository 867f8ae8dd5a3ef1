"""A bidder proves the booking of its deposit alone: receipt → event → inclusion proof → checkpoint."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.signing import platform_verifier_key, verify_receipt
from tests.trading.bids.test_receipt_proof import fetch, run_verifier

from .conftest import make_transfer

pytestmark = pytest.mark.django_db


def _account(user, account):
    client = APIClient()
    client.force_authenticate(user=user)
    return client.get(f"/api/v1/deposits/accounts/{account.public_id}")


def test_booking_receipt_proved_offline_by_the_bidder_alone(registered, notify, cast, tmp_path):
    tender, regs = registered
    account = regs[0].deposit_account
    assert notify(make_transfer(account, "60000.00")).status_code == 200
    assert notify(make_transfer(account, "40000.00")).status_code == 200
    notify(make_transfer(regs[1].deposit_account, "10.00"))  # another bidder's payment: not in my receipts

    response = _account(cast.bidders[0], account)
    assert response.status_code == 200, response.content
    receipts = response.json()["receipts"]
    assert len(receipts) == 2
    first = receipts[0]
    assert verify_receipt(first)
    fields = first["receipt"]
    assert fields["receipt_type"] == "deposit.entries_booked"
    assert fields["deposit_account"] == account.number and fields["bidder"] == str(cast.bidders[0].organisation_id)
    assert [e["amount"] for e in fields["entries"]] == ["60000.00"]
    assert receipts[1]["receipt"]["entries"][0]["balance_after"] == "100000.00"
    # Before the deadline the booking's event is its sealed commitment: nothing in the log names the bidder.
    assert AuditEvent.objects.get(seq=fields["audit_seq"]).action == "sealed.committed"

    proof = fetch(cast.bidders[0], fields["receipt_id"])
    assert proof.status_code == 200, proof.content
    proof = proof.json()
    assert proof["receipt"] == first
    done = run_verifier(tmp_path, proof, "--key", platform_verifier_key())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout

    # Tampering with the booked amount breaks the signature.
    forged = json.loads(json.dumps(proof))
    forged["receipt"]["receipt"]["entries"][0]["amount"] = "100000.00"
    assert run_verifier(tmp_path, forged, "--key", platform_verifier_key()).returncode != 0


def test_booking_receipts_are_the_holders_only(registered, notify, cast, make_user):
    tender, regs = registered
    account = regs[0].deposit_account
    notify(make_transfer(account))
    receipt_id = _account(cast.bidders[0], account).json()["receipts"][0]["receipt"]["receipt_id"]
    # Another bidder, the agent, the supervisor: no proof of this receipt (404 alike for "not yours").
    for user in (cast.bidders[1], cast.agent, cast.supervisor, make_user("platform_admin")):
        assert fetch(user, receipt_id).status_code == 404, user
    # The supervisor sees the sub-account but not its holder's receipts.
    response = _account(cast.supervisor, account)
    assert response.status_code == 200 and response.json()["receipts"] == []
    # The other bidder's own account lists only its own receipts.
    other = regs[1].deposit_account
    notify(make_transfer(other, "10.00"))
    mine = _account(cast.bidders[1], other).json()["receipts"]
    assert [r["receipt"]["deposit_account"] for r in mine] == [other.number]
    assert receipt_id not in {r["receipt"]["receipt_id"] for r in mine}
