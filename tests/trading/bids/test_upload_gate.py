"""Issue 15 finding 6: the bid upload authenticates and checks permission on the headers alone,
before the body is read: 401/403/404/413 without the server pulling a byte of a 315 MB body."""

from __future__ import annotations

import pytest

from tests.asgi_client import asgi_request, repeated
from tests.trading.sealed import seal, sign

MIB = 1024 * 1024
BIG = 315 * MIB
pytestmark = pytest.mark.django_db


def _post(lot, headers, *, declared: int | None = BIG, chunks=None):
    base = {"content-type": "application/octet-stream"}
    if declared is not None:
        base["content-length"] = str(declared)
    return asgi_request("POST", f"/api/v1/tenders/{lot.tender_id}/lots/{lot.pk}/bids", headers={**base, **headers},
                        chunks=chunks if chunks is not None else repeated(b"\0" * MIB, 315))


def test_anonymous_upload_is_401_without_reading_the_body(bidding):
    result = _post(bidding.lot, {})
    assert result.status == 401 and result.json()["error"]["code"] == "not_authenticated"
    assert result.bytes_pulled == 0


def test_wrong_token_is_401_without_reading_the_body(bidding):
    result = _post(bidding.lot, {"authorization": "Token " + "0" * 40})
    assert result.status == 401 and result.bytes_pulled == 0


def test_user_without_permission_is_refused_without_reading_the_body(bidding, make_user):
    from accounts.tokens import token_issue

    outsider = make_user("bidder")  # a bidder not registered for this lot
    headers = {"authorization": f"Token {token_issue(user=outsider)}", "x-envelope-signature": "AA=="}
    result = _post(bidding.lot, headers)
    assert 400 <= result.status < 500 and result.status != 413
    assert result.bytes_pulled == 0


def test_registered_bidder_over_the_lot_limit_is_413_without_reading(bidding):
    bidder = bidding.bidders[0]
    bidding.lot.max_envelope_bytes = 10 * MIB
    bidding.lot.save(update_fields=["max_envelope_bytes"])
    result = _post(bidding.lot, {"authorization": f"Token {bidder.token}", "x-envelope-signature": "AA=="},
                   declared=BIG)
    assert result.status == 413 and result.bytes_pulled == 0


def test_registered_bidder_uploads_through_the_asgi_app(bidding):
    bidder = bidding.bidders[0]
    envelope = seal(bidding.lot, bidder)
    headers = {"authorization": f"Token {bidder.token}", "x-envelope-signature": sign(bidder, envelope)}
    result = _post(bidding.lot, headers, declared=len(envelope), chunks=[envelope[:1000], envelope[1000:]])
    assert result.status == 201, result.body[:500]
    assert result.bytes_pulled == len(envelope)
