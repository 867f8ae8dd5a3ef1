"""Bid upload: receipts, replace and withdraw, header/signature/size checks, the deadline, storage."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client

import sbe1
from audit.models import AuditEvent
from audit.sealed import stored_opened
from audit.signing import verify_receipt
from tests.trading.sealed import bidder_with_key, seal, sign, submit, upload
from trading.bids import storage
from trading.models import Bid, BidStatus

pytestmark = pytest.mark.django_db


def test_upload_returns_a_signed_receipt_bound_to_the_audit_event(bidding):
    bidder = bidding.bidders[0]
    envelope = seal(bidding.lot, bidder)
    response = upload(bidding.lot, bidder, envelope)
    assert response.status_code == 201, response.content
    body = response.json()
    signed = body["receipt"]
    assert verify_receipt(signed)
    receipt = signed["receipt"]
    assert set(receipt) == {"tender", "lot", "bidder", "envelope_sha256", "size", "received_at", "audit_seq",
                            "receipt_id", "audit_origin", "audit_leaf_hash"}
    assert receipt["envelope_sha256"] == sbe1.envelope_sha256(envelope).hex()
    assert receipt["size"] == len(envelope)
    assert receipt["tender"] == str(bidding.tender.pk) and receipt["bidder"] == str(bidder.org_id)
    # Sealed until the deadline: the log holds a commitment only (audit/sealed.py) ...
    sealed_event = AuditEvent.objects.get(seq=receipt["audit_seq"])
    assert sealed_event.action == "sealed.committed" and set(sealed_event.data) == {"scheme", "commitment"}
    # ... whose opening names neither the bidder nor the user, only identity hashes.
    [event] = [SimpleNamespace(**e) for e in stored_opened(bidding.tender.pk, "bid.submitted")]
    assert event.seq == receipt["audit_seq"] and event.data["envelope_sha256"] == receipt["envelope_sha256"]
    assert event.actor == "system" and "bidder" not in event.data and len(event.data["bidder_hash"]) == 64
    # A tampered receipt does not verify.
    forged = {**signed, "receipt": {**receipt, "size": receipt["size"] + 1}}
    assert not verify_receipt(forged)


def test_stored_envelope_is_named_by_its_hash_and_read_only(bidding):
    bidder = bidding.bidders[0]
    envelope = seal(bidding.lot, bidder)
    upload(bidding.lot, bidder, envelope)
    bid = Bid.objects.get()
    path = storage.path_of(bid.storage_name)
    assert path.name == f"{bid.envelope_sha256}.sbe1"
    assert path.read_bytes() == envelope
    assert not path.stat().st_mode & 0o222


def test_replace_supersedes_and_withdraw_before_deadline(bidding, api):
    bidder = bidding.bidders[0]
    first = submit(bidding.lot, bidder, price="100.00")
    second = submit(bidding.lot, bidder, price="90.00")
    assert Bid.objects.get(public_id=first["id"]).status == BidStatus.SUPERSEDED
    latest = Bid.objects.get(public_id=second["id"])
    assert latest.status == BidStatus.ACTIVE and str(latest.replaces.public_id) == first["id"]
    replaced = [e["data"]["replaces"] for e in stored_opened(bidding.tender.pk, "bid.replaced")]
    assert replaced == [Bid.objects.get(public_id=first["id"]).pk]  # audit objects use internal ids
    response = api.as_user(bidder.user).post(f"/api/v1/bids/{second['id']}/withdraw")
    assert response.status_code == 200, response.content
    assert response.json()["bid"]["status"] == "withdrawn"
    assert verify_receipt(response.json()["receipt"])
    assert len(stored_opened(bidding.tender.pk, "bid.withdrawn")) == 1
    assert not Bid.objects.filter(status=BidStatus.ACTIVE).exists()
    # Only the current bid can be withdrawn; another bidder cannot see it.
    assert api.as_user(bidder.user).post(f"/api/v1/bids/{first['id']}/withdraw").status_code == 409
    assert api.as_user(bidding.bidders[1].user).get(f"/api/v1/bids/{first['id']}").status_code == 404


def _error(response) -> str:
    return response.json()["error"]["code"]


def test_header_must_name_this_tender_lot_bidder_and_keys(bidding, make_draft, cast):
    bidder, lot = bidding.bidders[0], bidding.lot
    cases = {
        "header_tender_mismatch": seal(lot, bidder, tender_id="999999"),
        "header_lot_mismatch": seal(lot, bidder, lot_id="999999"),
        "header_bidder_mismatch": seal(lot, bidder, bidder_id=str(bidding.bidders[1].org_id)),
        "header_opening_key_mismatch": seal(lot, bidder, opening_spki=sbe1.spki_b64(sbe1.generate_private_key())),
    }
    for code, envelope in cases.items():
        response = upload(lot, bidder, envelope)
        assert response.status_code == 400 and _error(response) == code, (code, response.content)
    # A key id that is not registered for this organisation (another bidder's key).
    other = bidding.bidders[1]
    envelope = seal(lot, bidder)
    stranger = sbe1.generate_private_key()
    import io

    out = io.BytesIO()
    sbe1.seal_bid({"price": "1.00"}, [], out, tender=str(lot.tender_id), lot=str(lot.pk), bidder=str(bidder.org_id),
                  bidder_key=sbe1.spki_der(other.key), opening_key=lot.opening_key.public_spki)
    response = upload(lot, bidder, out.getvalue())
    assert _error(response) == "header_bidder_key_unknown"
    out = io.BytesIO()
    sbe1.seal_bid({"price": "1.00"}, [], out, tender=str(lot.tender_id), lot=str(lot.pk), bidder=str(bidder.org_id),
                  bidder_key=sbe1.spki_der(stranger), opening_key=lot.opening_key.public_spki)
    assert _error(upload(lot, bidder, out.getvalue())) == "header_bidder_key_unknown"
    assert not Bid.objects.exists()
    assert upload(lot, bidder, envelope).status_code == 201


def test_bad_signature_tampered_truncated_and_reordered_envelopes_are_rejected(bidding):
    bidder, lot = bidding.bidders[0], bidding.lot
    envelope = seal(lot, bidder, files=[("a.bin", bytes(range(256)) * 40)], chunk_size=1024)
    signature = sign(bidder, envelope)
    header_size = sbe1.parse_header(envelope).size
    block = 1024 + 16
    body = envelope[header_size:]
    tampered = bytearray(envelope)
    tampered[header_size + 10] ^= 1
    reordered = envelope[:header_size] + body[block:2 * block] + body[:block] + body[2 * block:]
    truncated_on_boundary = envelope[: header_size + 3 * block]  # a missing final chunk
    truncated_mid_chunk = envelope[: header_size + 3 * block + 7]
    for name, data, code in (
        ("tampered", bytes(tampered), "bad_signature"),
        ("reordered", reordered, "bad_signature"),
        ("truncated on a chunk boundary", truncated_on_boundary, "bad_signature"),
        ("truncated mid-chunk", truncated_mid_chunk, "envelope_truncated"),
        ("garbage", b"not an envelope at all", "envelope_bad_magic"),
    ):
        response = upload(lot, bidder, data, signature=signature)
        assert response.status_code == 400 and _error(response) == code, (name, response.content)
    other_signature = sign(bidding.bidders[1], envelope)  # signed by another organisation's key
    assert _error(upload(lot, bidder, envelope, signature=other_signature)) == "bad_signature"
    assert _error(upload(lot, bidder, envelope, signature="AAAA")) == "bad_signature"
    assert _error(upload(lot, bidder, envelope, signature="")) == "signature_missing"
    assert not Bid.objects.exists()
    assert not list(storage.envelope_root().glob("*/*.sbe1"))  # nothing stored, no partial left
    assert not list((storage.envelope_root() / ".incoming").iterdir())
    assert upload(lot, bidder, envelope, signature=signature).status_code == 201


def test_size_cap_per_lot(bidding):
    bidder, lot = bidding.bidders[0], bidding.lot
    envelope = seal(lot, bidder)
    lot.max_envelope_bytes = len(envelope) - 1
    lot.save(update_fields=["max_envelope_bytes"])
    response = upload(lot, bidder, envelope)
    assert response.status_code == 413 and _error(response) == "too_large"


def test_large_envelope_streams_past_the_in_memory_limit(bidding, settings):
    """The body never goes through request.body: 3 MB passes with a 1 MB DATA_UPLOAD_MAX_MEMORY_SIZE."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    bidder, lot = bidding.bidders[0], bidding.lot
    envelope = seal(lot, bidder, files=[("big.bin", b"\x5a" * (3 * 1024 * 1024))], chunk_size=65536)
    response = upload(lot, bidder, envelope)
    assert response.status_code == 201, response.content
    assert response.json()["size"] == len(envelope)


def test_unregistered_and_wrong_roles_are_refused(bidding, make_user):
    lot = bidding.lot
    outsider = bidder_with_key(make_user("bidder"))
    response = upload(lot, outsider, seal(lot, outsider))
    assert response.status_code == 400 and _error(response) == "not_registered"
    agent = bidding.cast.agent
    from accounts.tokens import token_issue

    token_key = token_issue(user=agent)
    response = Client().post(f"/api/v1/tenders/{lot.tender_id}/lots/{lot.pk}/bids", data=b"x",
                             content_type="application/octet-stream", HTTP_AUTHORIZATION=f"Token {token_key}",
                             HTTP_X_ENVELOPE_SIGNATURE="AAAA")
    assert response.status_code == 403
    response = Client().post(f"/api/v1/tenders/{lot.tender_id}/lots/{lot.pk}/bids", data=b"x",
                             content_type="application/octet-stream")
    assert response.status_code == 401
    response = upload(lot, bidding.bidders[0], seal(lot, bidding.bidders[0]), tender_id=lot.tender_id + 1000)
    assert response.status_code == 404


def test_session_upload_needs_the_csrf_token(bidding):
    bidder, lot = bidding.bidders[0], bidding.lot
    client = Client(enforce_csrf_checks=True)
    client.force_login(bidder.user)
    envelope = seal(lot, bidder)
    url = f"/api/v1/tenders/{lot.tender_id}/lots/{lot.pk}/bids"
    headers = {"HTTP_X_ENVELOPE_SIGNATURE": sign(bidder, envelope)}
    response = client.post(url, data=envelope, content_type="application/octet-stream", **headers)
    assert response.status_code == 403 and _error(response) == "csrf_failed"
    client.get("/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(url, data=envelope, content_type="application/octet-stream", HTTP_X_CSRFTOKEN=token,
                           **headers)
    assert response.status_code == 201, response.content


def test_one_millisecond_after_the_deadline_is_refused(bidding, clock):
    bidder, lot, deadline = bidding.bidders[0], bidding.lot, bidding.tender.bid_deadline
    envelope = seal(lot, bidder)
    clock.move_to(deadline - timedelta(milliseconds=1))
    response = upload(lot, bidder, envelope)
    assert response.status_code == 201
    assert Bid.objects.get().received_at == deadline - timedelta(milliseconds=1)
    clock.move_to(deadline + timedelta(milliseconds=1))
    response = upload(lot, bidding.bidders[1], seal(lot, bidding.bidders[1]))
    assert response.status_code == 400 and _error(response) == "deadline_passed"
    assert "招标投标法 Art 28" in response.json()["error"]["message"]
    clock.move_to(deadline)  # at the deadline exactly: refused too
    assert _error(upload(lot, bidding.bidders[2], seal(lot, bidding.bidders[2]))) == "deadline_passed"
    assert Bid.objects.count() == 1


def test_deadline_checked_again_when_storing(bidding, clock, monkeypatch):
    """The deadline passes while the body streams in: the check inside the transaction refuses it."""
    from trading.bids import submission

    bidder, lot = bidding.bidders[0], bidding.lot
    envelope = seal(lot, bidder)
    real = submission.envelope_receive

    def slow_receive(**kw):
        result = real(**kw)
        clock.move_to(bidding.tender.bid_deadline + timedelta(microseconds=1))
        return result

    monkeypatch.setattr(submission, "envelope_receive", slow_receive)
    response = upload(lot, bidder, envelope)
    assert response.status_code == 400 and _error(response) == "deadline_passed"
    assert not Bid.objects.exists()
    assert not list(storage.envelope_root().glob("*/*.sbe1"))


def test_after_the_deadline_step_an_upload_is_still_deadline_passed(bidding, clock):
    """One refusal per situation (docs/api.md): once the deadline has passed an upload is 400
    `deadline_passed`, whether or not the deadline step has closed the bidding yet (issue 15 #9)."""
    from trading.services.scheduling import steps_run_due

    bidder, lot = bidding.bidders[0], bidding.lot
    envelope = seal(lot, bidder)
    clock.move_to(bidding.tender.bid_deadline + timedelta(minutes=5))
    steps_run_due()
    bidding.tender.refresh_from_db()
    assert bidding.tender.status != "published"
    response = upload(lot, bidder, envelope)
    assert response.status_code == 400 and _error(response) == "deadline_passed", response.content
    assert not Bid.objects.exists()
