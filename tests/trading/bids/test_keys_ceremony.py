"""Key registry and the opening key ceremony at publication."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import sbe1
from audit.models import AuditEvent
from trading.models import KeyShare, OpeningKey, RegisteredKey

pytestmark = pytest.mark.django_db


def _spki(key) -> str:
    import base64

    return base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


def test_register_keys_through_the_api(api, make_user):
    bidder = make_user("bidder")
    key = sbe1.generate_private_key()
    response = api.as_user(bidder).post("/api/v1/keys", {"public_key": sbe1.spki_b64(key), "label": "main"},
                                        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key_id"] == sbe1.key_id(key) and body["organisation"] == bidder.organisation_id
    assert api.get("/api/v1/keys").json()[0]["key_id"] == body["key_id"]
    # Same key twice, other curves, RSA, garbage: refused.
    assert api.post("/api/v1/keys", {"public_key": sbe1.spki_b64(key)}, format="json").status_code == 409
    for bad in (_spki(ec.generate_private_key(ec.SECP384R1())), _spki(rsa.generate_private_key(65537, 2048)),
                "bm90IGEga2V5"):
        response = api.post("/api/v1/keys", {"public_key": bad}, format="json")
        assert response.status_code == 400 and response.json()["error"]["code"] == "bad_key", bad
    # A bidder cannot register a custodian key; revocation.
    response = api.post("/api/v1/keys", {"public_key": sbe1.spki_b64(sbe1.generate_private_key()),
                                         "holder": "custodian"}, format="json")
    assert response.status_code == 403
    response = api.post(f"/api/v1/keys/{body['id']}/revoke")
    assert response.status_code == 200 and response.json()["revoked_at"]
    event = AuditEvent.objects.get(action="sbe1_key.registered")
    # An organisation key's registration commits to the key id (docs/audit.md, "Sealed events").
    nonce = RegisteredKey.objects.get(key_id=body["key_id"]).commit_nonce
    assert "key_id" not in event.data and event.data["key_commitment"] == hashlib.sha256(
        f"ptrade-key-v1\n{body['key_id']}\n{nonce}".encode("ascii")).hexdigest()


def test_custodian_registers_a_user_key(api, make_user):
    custodian = make_user("supervisor", "custodian")
    key = sbe1.generate_private_key()
    response = api.as_user(custodian).post("/api/v1/keys", {"public_key": sbe1.spki_b64(key),
                                                            "holder": "custodian"}, format="json")
    assert response.status_code == 201
    assert RegisteredKey.objects.get().user_id == custodian.pk


def test_publication_makes_one_opening_key_per_lot_shared_2_of_3(published, cast):
    lot = published.lots.get()
    opening_key = OpeningKey.objects.get(lot=lot)
    assert (opening_key.threshold, opening_key.share_count) == (2, 3)
    shares = list(KeyShare.objects.filter(opening_key=opening_key).order_by("x"))
    assert [s.role for s in shares] == ["agent", "supervisor", "platform"]
    released = []
    for share in shares:
        user, private = cast.custodians[share.role]
        assert share.custodian_id == user.pk
        released.append(sbe1.decrypt_share(share.container, private))
    # Any two shares rebuild the opening key; its public key is the stored one.
    for pair in ((0, 1), (1, 2), (0, 2)):
        key = sbe1.combine_released([released[i] for i in pair])
        assert sbe1.key_id(key) == opening_key.key_id and sbe1.spki_b64(key) == opening_key.public_spki
    with pytest.raises(sbe1.ShamirError):
        sbe1.combine_released([released[0]])
    # The ceremony's public facts are an audit event; no share value is in it.
    event = AuditEvent.objects.get(action="opening_key.created")
    assert event.data["opening_key_id"] == opening_key.key_id and event.data["threshold"] == 2
    assert [c["user"] for c in event.data["custodians"]] == [s.custodian_id for s in shares]
    assert all("wrapped" not in str(c) and "y" not in c for c in event.data["custodians"])
    # The public opening key is served for sealing.
    from rest_framework.test import APIClient

    response = APIClient().get(f"/api/v1/lots/{lot.pk}/opening-key")
    assert response.status_code == 200 and response.json()["key_id"] == opening_key.key_id


def test_publication_refused_when_a_custodian_has_no_key(make_draft, cast, api):
    from trading.models import TenderStatus

    tender = make_draft()
    supervisor_custodian, _ = cast.custodians["supervisor"]
    RegisteredKey.objects.filter(user=supervisor_custodian).update(revoked_at=tender.created_at)
    response = api.as_user(cast.agent).post(f"/api/v1/tenders/{tender.pk}/publish", {}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "custodian_key_missing" and supervisor_custodian.username in error["message"]
    tender.refresh_from_db()
    assert tender.status == TenderStatus.DRAFT and not OpeningKey.objects.exists()


def test_custodians_share_shares_only_with_themselves(published, cast, api):
    user, private = cast.custodians["platform"]
    shares = api.as_user(user).get("/api/v1/custodian/shares").json()
    assert len(shares) == 1 and shares[0]["role"] == "platform"
    released = sbe1.decrypt_share(shares[0]["container"], private)
    assert released.opening_key_id == shares[0]["opening_key_id"]
    assert api.as_user(cast.bidders[0]).get("/api/v1/custodian/shares").json() == []
