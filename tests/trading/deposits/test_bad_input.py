"""Signed webhooks and CSV statements with input the database or the parser cannot hold:
refused as a 4xx JSON error after the signature check, changing nothing (issue 15, finding 7)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from trading.deposits import bankmsg
from trading.models.deposit import BankMessage, BankTransaction, DepositEntry

from .conftest import make_transfer, signed_post

pytestmark = pytest.mark.django_db


def _body(account, **changes) -> dict:
    data = json.loads(bankmsg.notification_body(make_transfer(account)))
    for key, value in changes.items():
        if key.startswith("counterparty."):
            data["counterparty"][key.split(".", 1)[1]] = value
        else:
            data[key] = value
    return data


def _nothing_booked():
    assert not BankTransaction.objects.exists() and not DepositEntry.objects.exists()
    assert not BankMessage.objects.exists()


@pytest.mark.parametrize("field", ["counterparty.account_name", "counterparty.bank", "failure_reason",
                                   "virtual_account", "reference"])
@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"])
def test_webhook_text_the_database_cannot_hold_is_refused(registered, api, field, bad):
    _, regs = registered
    data = _body(regs[0].deposit_account, **{field: bad})
    body = json.dumps(data).encode()  # ensure_ascii: \u0000 and \ud800 escapes, valid UTF-8 bytes
    response = signed_post(api, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "invalid_text"
    _nothing_booked()


def test_webhook_deeply_nested_json_is_refused(registered, api):
    _, regs = registered
    body = b'{"kind": "arrival", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = signed_post(api, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_json"
    _nothing_booked()


def test_webhook_largest_amount_is_refused_cleanly(registered, api):
    _, regs = registered
    for amount in ("9999999999999999.99", "99999999999999.99"):
        response = signed_post(api, json.dumps(_body(regs[0].deposit_account, amount=amount)).encode())
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "invalid_amount"
    _nothing_booked()


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
                                  "9999-12-31T23:59:59-08:00", "2999-01-01T00:00:00Z"])
def test_webhook_booked_at_outside_a_sane_range_is_refused(registered, api, when):
    _, regs = registered
    response = signed_post(api, json.dumps(_body(regs[0].deposit_account, booked_at=when)).encode())
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_time"
    _nothing_booked()


def test_webhook_refusal_comes_after_the_signature_check(registered, api):
    _, regs = registered
    body = b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = signed_post(api, body, secret="not-the-bank")
    assert response.status_code == 401 and response.json()["error"]["code"] == "bad_signature"


def _statement_upload(api, admin, data: bytes):
    return api.as_user(admin).post("/api/v1/deposits/statements",
                                   {"file": SimpleUploadedFile("s.csv", data, content_type="text/csv")},
                                   format="multipart")


HEADER = "txn_id,booked_at,direction,virtual_account,amount,currency,counterparty_account,counterparty_name," \
         "counterparty_bank,reference\n"


@pytest.mark.parametrize("line", [
    "BK1,2026-01-01T00:00:00Z,C,{acct},100.00,CNY,1,Na\x00me,Bank,\n",
    "BK1,0001-01-01T00:00:00+08:00,C,{acct},100.00,CNY,1,Name,Bank,\n",
    "BK1,2026-01-01T00:00:00Z,C,{acct},9999999999999999.99,CNY,1,Name,Bank,\n",
])
def test_statement_lines_the_database_cannot_hold_are_line_errors(registered, api, make_user, line):
    _, regs = registered
    admin = make_user("platform_admin")
    data = (HEADER + line.format(acct=regs[0].deposit_account.number)).encode()
    response = _statement_upload(api, admin, data)
    assert response.status_code == 201, response.content
    assert response.json()["error_count"] == 1 and response.json()["booked_count"] == 0
    assert not DepositEntry.objects.exists()


def test_statement_with_a_lone_surrogate_is_refused(registered, api, make_user):
    admin = make_user("platform_admin")
    data = HEADER.encode() + b"BK1,2026-01-01T00:00:00Z,C,1,100.00,CNY,1,\xed\xa0\x80,Bank,\n"
    response = _statement_upload(api, admin, data)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_statement"


def test_webhook_body_over_the_parser_limit_is_a_json_413(registered, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, regs = registered
    data = _body(regs[0].deposit_account)
    data["counterparty"]["account_name"] = "x" * 2000
    response = signed_post(api, json.dumps(data).encode())
    assert response.status_code == 413 and response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "too_large"
    _nothing_booked()
