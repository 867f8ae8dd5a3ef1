"""A bidder proves its receipt alone: receipt → event → inclusion proof → signed checkpoint, offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.services import leaf_hash
from audit.signing import platform_verifier_key, verify_receipt
from tests.trading.sealed import seal, submit, upload

pytestmark = pytest.mark.django_db

VERIFIER = Path(settings.BASE_DIR) / "audit" / "verifier" / "ptrade_receipt_verify.py"


def run_verifier(tmp_path: Path, proof: dict, *args: str) -> subprocess.CompletedProcess:
    file = tmp_path / "proof.json"
    file.write_text(json.dumps(proof), encoding="utf-8")
    command = [sys.executable, "-I", str(VERIFIER), str(file), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603


def fetch(user, receipt_id: str):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client.get(f"/api/v1/audit/receipts/{receipt_id}")


def test_bid_receipt_carries_leaf_hash_and_an_opaque_id(bidding):
    bidder = bidding.bidders[0]
    response = upload(bidding.lot, bidder, seal(bidding.lot, bidder))
    assert response.status_code == 201, response.content
    signed = response.json()["receipt"]
    assert verify_receipt(signed)
    receipt = signed["receipt"]
    event = AuditEvent.objects.get(seq=receipt["audit_seq"])
    assert receipt["audit_leaf_hash"] == event.hash == leaf_hash(
        json.dumps(event.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    assert receipt["audit_origin"] == settings.AUDIT_LOG_ORIGIN
    # The receipt id is random: 128 bits of hex, unrelated to the bid id or the event's position.
    assert re.fullmatch(r"[0-9a-f]{32}", receipt["receipt_id"])
    second = submit(bidding.lot, bidding.bidders[1])["receipt"]["receipt"]["receipt_id"]
    assert second != receipt["receipt_id"] and int(second, 16) != int(receipt["receipt_id"], 16) + 1


def test_bidder_proves_its_receipt_offline_end_to_end(bidding, tmp_path):
    bidder = bidding.bidders[0]
    signed = submit(bidding.lot, bidder)["receipt"]
    # More events after the bid: the proof is against a checkpoint bigger than the event.
    submit(bidding.lot, bidding.bidders[1])
    response = fetch(bidder.user, signed["receipt"]["receipt_id"])
    assert response.status_code == 200, response.content
    proof = response.json()
    assert proof["receipt"] == signed
    assert proof["tree_size"] >= signed["receipt"]["audit_seq"]
    assert proof["leaf_index"] == signed["receipt"]["audit_seq"] - 1
    assert proof["checkpoint"].startswith(f"{settings.AUDIT_LOG_ORIGIN}\n{proof['tree_size']}\n")
    key = platform_verifier_key()

    done = run_verifier(tmp_path, proof, "--key", key)
    assert done.returncode == 0, done.stdout + done.stderr
    # Before the deadline the bid's event is its sealed commitment (docs/audit.md, "Sealed events").
    assert "VERIFIED" in done.stdout and "sealed.committed" in done.stdout

    # A checkpoint carrying extra (witness) signature lines still verifies.
    witnessed = {**proof, "checkpoint": proof["checkpoint"] + "— witness.example/w1 AAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"}
    assert run_verifier(tmp_path, witnessed, "--key", key).returncode == 0

    # Each kind of tampering is caught.
    event = json.loads(proof["event"])
    altered_event = json.dumps({**event, "data": {**event["data"], "size": 1}}, sort_keys=True,
                               separators=(",", ":"), ensure_ascii=False)
    forged_receipt = {**signed, "receipt": {**signed["receipt"], "size": signed["receipt"]["size"] + 1}}
    other = AuditEvent.objects.get(seq=1)
    cases = {
        "altered event": {**proof, "event": altered_event},
        "another event": {**proof, "event": json.dumps(other.as_dict(), sort_keys=True, separators=(",", ":"),
                                                         ensure_ascii=False)},
        "forged receipt": {**proof, "receipt": forged_receipt},
        "bad proof": {**proof, "inclusion": ["00" * 32] + proof["inclusion"][1:]} if proof["inclusion"]
        else {**proof, "inclusion": ["00" * 32]},
        "wrong size": {**proof, "tree_size": proof["tree_size"] + 1},
        "unsigned checkpoint": {**proof, "checkpoint": proof["checkpoint"].split("\n\n")[0] + "\n\n"},
    }
    for name, case in cases.items():
        done = run_verifier(tmp_path, case, "--key", key)
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert "FAILED" in done.stderr, name
    # Another key than the platform's is refused.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.signing import verifier_key

    raw = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw,
                                                                 serialization.PublicFormat.Raw)
    assert run_verifier(tmp_path, proof, "--key", verifier_key(settings.AUDIT_LOG_ORIGIN, raw)).returncode == 1


def test_withdrawal_receipt_is_provable_too(bidding, api, tmp_path):
    bidder = bidding.bidders[0]
    bid = submit(bidding.lot, bidder)
    withdrawn = api.as_user(bidder.user).post(f"/api/v1/bids/{bid['id']}/withdraw").json()["receipt"]
    assert withdrawn["receipt"]["withdrawn"] is True
    response = fetch(bidder.user, withdrawn["receipt"]["receipt_id"])
    assert response.status_code == 200
    done = run_verifier(tmp_path, response.json(), "--key", platform_verifier_key())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sealed.committed" in done.stdout


def test_only_the_holder_fetches_a_receipt_proof(bidding):
    bidder, other = bidding.bidders[0], bidding.bidders[1]
    receipt_id = submit(bidding.lot, bidder)["receipt"]["receipt"]["receipt_id"]
    assert fetch(None, receipt_id).status_code == 401
    # Not yours and does not exist answer the same.
    mine_not = fetch(other.user, receipt_id)
    missing = fetch(other.user, "0" * 32)
    assert mine_not.status_code == missing.status_code == 404
    assert mine_not.json()["error"]["code"] == missing.json()["error"]["code"]
    assert fetch(bidding.cast.agent, receipt_id).status_code == 404
    assert fetch(bidder.user, receipt_id).status_code == 200


def test_receipt_proof_carries_the_witnessed_checkpoint_and_the_verifier_takes_a_trust_policy(
        bidding, tmp_path, settings, django_capture_on_commit_callbacks):
    """The proof's checkpoint is the witnessed note (cosignature lines included), and the offline
    receipt verifier checks it under witness keys + quorum (docs/witness.md, "Trust policy")."""
    from audit import checkpoints
    from tests.witness.fixtures import platform_witnesses

    bidder = bidding.bidders[0]
    signed = submit(bidding.lot, bidder)["receipt"]
    with platform_witnesses(tmp_path / "w", settings) as [(_url, witness)]:
        with django_capture_on_commit_callbacks(execute=True):
            checkpoint = checkpoints.checkpoint_create()
        submit(bidding.lot, bidding.bidders[1])  # a later, not yet witnessed event
        proof = fetch(bidder.user, signed["receipt"]["receipt_id"]).json()
        cosignature = checkpoint.cosignatures.get()
        assert proof["tree_size"] == checkpoint.tree_size
        assert proof["checkpoint"] == checkpoint.note + cosignature.line + "\n"
        key = platform_verifier_key()
        done = run_verifier(tmp_path, proof, "--key", key, "--witness", witness.vkey)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "quorum 1 met" in done.stdout and "VERIFIED" in done.stdout
        policy = tmp_path / "policy.json"
        policy.write_text(json.dumps({"witnesses": [witness.vkey], "quorum": 1}), encoding="utf-8")
        assert run_verifier(tmp_path, proof, "--key", key, "--trust-policy", str(policy)).returncode == 0
        # Without its cosignature line, or with another witness's key, the checkpoint is not witnessed.
        bare = {**proof, "checkpoint": checkpoint.note}
        done = run_verifier(tmp_path, bare, "--key", key, "--witness", witness.vkey)
        assert done.returncode == 1 and "NOT WITNESSED" in done.stderr
        with platform_witnesses(tmp_path / "other", settings) as [(_url2, other)]:
            done = run_verifier(tmp_path, proof, "--key", key, "--witness", other.vkey)
        assert done.returncode == 1 and "NOT WITNESSED" in done.stderr
