"""Electronic guarantee letters (电子保函) through the API: trusted issuers, content checks, status."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from audit.sealed import stored_opened
from trading.deposits.guarantee import sign_letter, spki_b64
from trading.models.deposit import DepositAccount, GuaranteeLetter

pytestmark = pytest.mark.django_db

ISSUER_USCC = "91310000MA1FL0000X"


@pytest.fixture(params=["p256", "ed25519"])
def issuer(request, api, make_user):
    key = ec.generate_private_key(ec.SECP256R1()) if request.param == "p256" else \
        ed25519.Ed25519PrivateKey.generate()
    admin = make_user("platform_admin")
    response = api.as_user(admin).post("/api/v1/deposits/guarantee-issuers", {
        "name": "Demo Guarantee Insurance", "uscc": ISSUER_USCC, "public_key": spki_b64(key.public_key())},
        format="json")
    assert response.status_code == 201, response.content
    api.force_authenticate(user=None)
    return key, response.json()["id"], admin


def _letter(tender, reg, **overrides):
    from trading import clock

    letter = {
        "v": 1, "letter_no": "BH-2026-0001",
        "issuer": {"name": "Demo Guarantee Insurance", "uscc": ISSUER_USCC},
        "applicant": {"name": reg.bidder.name, "uscc": reg.bidder.uscc},
        "beneficiary": {"name": tender.tenderer.name, "uscc": tender.tenderer.uscc},
        "tender": str(tender.pk), "lot": str(reg.lot_id), "amount": "100000.00", "currency": "CNY",
        "valid_from": (clock.now() - dt.timedelta(days=1)).isoformat(),
        "valid_until": (tender.bid_deadline + dt.timedelta(days=120)).isoformat(),
        "issued_at": (clock.now() - dt.timedelta(days=1)).isoformat(),
    }
    letter.update(overrides)
    return letter


def _url(reg):
    return f"/api/v1/deposits/accounts/{reg.deposit_account.public_id}/guarantee"


def test_guarantee_letter_accepted_as_json_and_as_file(registered, issuer, api, cast):
    tender, regs = registered
    key, _, _ = issuer
    signed = sign_letter(_letter(tender, regs[0]), key)
    response = api.as_user(cast.bidders[0]).post(_url(regs[0]), signed, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "guaranteed" and response.json()["amount"] == "100000.00"
    assert DepositAccount.objects.get(registration=regs[0]).status == "guaranteed"
    assert not AuditEvent.objects.filter(action="deposit.guarantee_accepted").exists()  # sealed until the deadline
    [event] = [SimpleNamespace(**e) for e in stored_opened(tender.pk, "deposit.guarantee_accepted")]
    assert event.actor == "system" and regs[0].bidder.name not in json.dumps(event.data, ensure_ascii=False)
    upload = SimpleUploadedFile("letter.json", json.dumps(sign_letter(
        _letter(tender, regs[1], letter_no="BH-2026-0002"), key)).encode(), content_type="application/json")
    response = api.as_user(cast.bidders[1]).post(_url(regs[1]), {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    # the same letter again is refused
    response = api.as_user(cast.bidders[0]).post(_url(regs[0]), signed, format="json")
    assert response.status_code == 409


@pytest.mark.parametrize("overrides,code", [
    ({"amount": "99999.99"}, "amount_insufficient"),
    ({"beneficiary": {"name": "Someone", "uscc": "91330100MA2B99999X"}}, "wrong_beneficiary"),
    ({"lot": "999999"}, "wrong_lot"),
    ({"valid_until": "2026-01-01T00:00:00+08:00", "valid_from": "2025-01-01T00:00:00+08:00"},
     "validity_too_short"),
])
def test_guarantee_content_refused(registered, issuer, api, cast, overrides, code):
    tender, regs = registered
    key, _, _ = issuer
    response = api.as_user(cast.bidders[0]).post(_url(regs[0]), sign_letter(_letter(tender, regs[0], **overrides),
                                                                             key), format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert not GuaranteeLetter.objects.exists()


def test_untrusted_or_revoked_issuer_and_tampering_refused(registered, issuer, api, cast):
    tender, regs = registered
    key, issuer_id, admin = issuer
    stranger = ed25519.Ed25519PrivateKey.generate()
    response = api.as_user(cast.bidders[0]).post(_url(regs[0]), sign_letter(_letter(tender, regs[0]), stranger),
                                                 format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "untrusted_issuer"
    signed = sign_letter(_letter(tender, regs[0]), key)
    signed["letter"]["amount"] = "200000.00"
    response = api.as_user(cast.bidders[0]).post(_url(regs[0]), signed, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_signature"
    assert api.as_user(admin).post(f"/api/v1/deposits/guarantee-issuers/{issuer_id}/revoke").status_code == 200
    response = api.as_user(cast.bidders[0]).post(_url(regs[0]), sign_letter(_letter(tender, regs[0]), key),
                                                 format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "untrusted_issuer"


def test_only_the_bidder_itself_before_the_deadline(registered, issuer, api, cast, clock):
    tender, regs = registered
    key, _, _ = issuer
    signed = sign_letter(_letter(tender, regs[0]), key)
    assert api.as_user(cast.bidders[1]).post(_url(regs[0]), signed, format="json").status_code == 404
    assert api.as_user(cast.supervisor).post(_url(regs[0]), signed, format="json").status_code == 403
    clock.move_to(tender.bid_deadline + dt.timedelta(seconds=1))
    response = api.as_user(cast.bidders[0]).post(_url(regs[0]), signed, format="json")
    assert response.status_code == 400 and "Art 26" in response.json()["error"]["message"]
