"""The publishing agent proves its notice's publication alone: receipt → event → proof → checkpoint."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from audit.signing import platform_verifier_key, verify_receipt
from tests.trading.bids.test_receipt_proof import fetch, run_verifier

pytestmark = pytest.mark.django_db


def test_notice_publication_receipt_proved_offline(api, cast, make_draft, tmp_path):
    tender = make_draft()
    agent = api.as_user(cast.agent)
    response = agent.post(f"/api/v1/tenders/{tender.pk}/publish", {}, format="json")
    assert response.status_code == 200, response.content
    notice = response.json()["notice"]
    signed = notice["receipt"]
    assert verify_receipt(signed)
    fields = signed["receipt"]
    assert fields["receipt_type"] == "notice.published"
    assert fields["notice"] == str(notice["id"]) and fields["content_sha256"] == notice["content_sha256"]
    event = AuditEvent.objects.get(seq=fields["audit_seq"])
    assert event.action == "notice.published" and event.hash == fields["audit_leaf_hash"]

    # The agent sees the receipt where it lists the tender's notices; the public does not.
    listed = agent.get(f"/api/v1/tenders/{tender.pk}/notices").json()["results"]
    assert [n["receipt"] for n in listed] == [signed]
    public = api.as_user(cast.public_user).get(f"/api/v1/tenders/{tender.pk}/notices").json()["results"]
    assert [n["receipt"] for n in public] == [None]

    proof = fetch(cast.agent, fields["receipt_id"])
    assert proof.status_code == 200, proof.content
    proof = proof.json()
    done = run_verifier(tmp_path, proof, "--key", platform_verifier_key())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout and "notice.published" in done.stdout
    forged = json.loads(json.dumps(proof))
    forged["event"] = forged["event"].replace(notice["content_sha256"], "0" * 64)
    assert run_verifier(tmp_path, forged, "--key", platform_verifier_key()).returncode != 0

    # Nobody else can fetch the proof (404 alike for "not yours").
    for user in (cast.tenderer, cast.bidders[0], cast.supervisor, cast.public_user):
        assert fetch(user, fields["receipt_id"]).status_code == 404, user


def test_amendment_publication_returns_its_receipt(api, cast, published):
    response = api.as_user(cast.agent).post(
        f"/api/v1/tenders/{published.pk}/amendments",
        {"kind": "clarification", "title": "Q&A", "body": "Answers.", "affects_preparation": False},
        format="json",
    )
    assert response.status_code == 201, response.content
    signed = response.json()["receipt"]
    assert verify_receipt(signed) and signed["receipt"]["kind"] == "clarification"
    assert fetch(cast.agent, signed["receipt"]["receipt_id"]).status_code == 200
    assert fetch(cast.bidders[0], signed["receipt"]["receipt_id"]).status_code == 404
