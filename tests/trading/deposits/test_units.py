"""The Django-free deposit modules: account numbers, bank signatures, statements, interest, guarantees."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from trading.deposits import bankmsg, guarantee, interest, statement, vaccount
from trading.deposits.errors import DepositFormatError, SignatureRefused
from trading.deposits.money import parse_amount

UTC = dt.UTC
CST = dt.timezone(dt.timedelta(hours=8))


# --- virtual account numbers -------------------------------------------------------------------

def test_luhn_known_vectors():
    assert vaccount.luhn_valid("79927398713")  # the textbook example
    assert not vaccount.luhn_valid("79927398710")
    assert vaccount.luhn_check_digit("7992739871") == "3"
    assert vaccount.luhn_valid("4111111111111111")


def test_virtual_account_layout_and_check_digit():
    number = vaccount.make_virtual_account("6230", "000000012345")
    assert number.startswith("6230000000012345") and len(number) == 17
    assert vaccount.is_virtual_account(number, "6230")
    assert vaccount.is_virtual_account(" ".join([number[:4], number[4:]]), "6230")  # separators ignored
    assert not vaccount.is_virtual_account(number, "6231")
    assert not vaccount.is_virtual_account(number[:-1], "6230")


def test_every_single_digit_error_and_adjacent_transposition_is_caught():
    number = vaccount.make_virtual_account("6230", "918273645501")
    for i, ch in enumerate(number):
        for d in "0123456789":
            if d != ch:
                assert not vaccount.luhn_valid(number[:i] + d + number[i + 1:])
    for i in range(len(number) - 1):
        a, b = number[i], number[i + 1]
        if a != b and {a, b} != {"0", "9"}:
            assert not vaccount.luhn_valid(number[:i] + b + a + number[i + 2:])


def test_random_numbers_are_valid_and_differ():
    numbers = {vaccount.make_virtual_account("6230") for _ in range(200)}
    assert len(numbers) == 200
    assert all(vaccount.is_virtual_account(n, "6230") for n in numbers)
    with pytest.raises(ValueError):
        vaccount.make_virtual_account("62A0")


def test_account_normalisation():
    assert vaccount.normalize_account_number(" 6222-0000 1234 ") == "622200001234"
    assert vaccount.normalize_account_number(None) == ""


# --- money ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0.001", "1e5", "-5.00", "12,000.00", "", " ", "0", "0.00", "NaN", "1.2.3"])
def test_bad_amounts_refused(value):
    with pytest.raises(DepositFormatError):
        parse_amount(value)


def test_amounts_are_decimal_and_floats_refused():
    assert parse_amount("100000") == Decimal("100000.00")
    assert parse_amount(" 0.5 ") == Decimal("0.50")
    with pytest.raises(DepositFormatError, match="decimal string"):
        parse_amount(100000.0)
    with pytest.raises(DepositFormatError):
        parse_amount(100000)


# --- bank message signatures -----------------------------------------------------------------------

SECRET = b"bank-shared-secret"
BODY = b'{"kind":"arrival"}'


def _verify(headers, body=BODY, now=1_800_000_000, secrets=(SECRET,), tolerance=300):
    return bankmsg.verify(secrets=list(secrets), timestamp=headers.get(bankmsg.TIMESTAMP_HEADER),
                          signature=headers.get(bankmsg.SIGNATURE_HEADER), body=body, now=now, tolerance=tolerance)


def test_signature_round_trip_and_digest():
    headers = bankmsg.signed_headers(SECRET, BODY, timestamp=1_800_000_000)
    assert headers[bankmsg.SIGNATURE_HEADER].startswith("v1=")
    verified = _verify(headers)
    assert verified.timestamp == 1_800_000_000
    assert verified.digest == bankmsg.message_digest(1_800_000_000, BODY)


@pytest.mark.parametrize("tamper", ["body", "timestamp", "secret", "mac"])
def test_forged_messages_refused(tamper):
    ts = 1_800_000_000
    headers = bankmsg.signed_headers(b"other-secret" if tamper == "secret" else SECRET, BODY, timestamp=ts)
    body = BODY
    if tamper == "body":
        body = BODY.replace(b"arrival", b"refund!")
    elif tamper == "timestamp":
        headers[bankmsg.TIMESTAMP_HEADER] = str(ts + 1)
    elif tamper == "mac":
        mac = headers[bankmsg.SIGNATURE_HEADER]
        headers[bankmsg.SIGNATURE_HEADER] = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    with pytest.raises(SignatureRefused) as exc:
        _verify(headers, body=body)
    assert exc.value.code == "bad_signature"


@pytest.mark.parametrize("offset", [-301, 301, -100_000])
def test_stale_or_future_messages_refused(offset):
    ts = 1_800_000_000 + offset
    with pytest.raises(SignatureRefused) as exc:
        _verify(bankmsg.signed_headers(SECRET, BODY, timestamp=ts))
    assert exc.value.code == "stale"


def test_within_tolerance_accepted_and_rotation():
    _verify(bankmsg.signed_headers(SECRET, BODY, timestamp=1_800_000_000 - 299))
    _verify(bankmsg.signed_headers(b"new-secret", BODY, timestamp=1_800_000_000), secrets=(SECRET, b"new-secret"))


@pytest.mark.parametrize("headers,code", [
    ({}, "signature_missing"),
    ({bankmsg.TIMESTAMP_HEADER: "1800000000"}, "signature_missing"),
    ({bankmsg.TIMESTAMP_HEADER: "soon", bankmsg.SIGNATURE_HEADER: "v1=" + "0" * 64}, "bad_timestamp"),
    ({bankmsg.TIMESTAMP_HEADER: "1800000000", bankmsg.SIGNATURE_HEADER: "sha1=abc"}, "bad_signature"),
    ({bankmsg.TIMESTAMP_HEADER: "1800000000", bankmsg.SIGNATURE_HEADER: "v1=" + "G" * 64}, "bad_signature"),
])
def test_malformed_signature_headers(headers, code):
    with pytest.raises(SignatureRefused) as exc:
        _verify(headers)
    assert exc.value.code == code


def test_no_secret_configured_refuses_everything():
    with pytest.raises(SignatureRefused) as exc:
        _verify(bankmsg.signed_headers(SECRET, BODY, timestamp=1_800_000_000), secrets=())
    assert exc.value.code == "not_configured"


# --- notification bodies --------------------------------------------------------------------------

def _arrival(**overrides):
    data = {"kind": "arrival", "txn_id": "B-1", "virtual_account": "6230 0000 0001 2345 0", "amount": "100.50",
            "currency": "CNY", "booked_at": "2026-11-20T10:00:00+08:00",
            "counterparty": {"account_number": "6222-0001", "account_name": "Bidder", "bank": "Demo Bank"}}
    data.update(overrides)
    return json.dumps(data).encode()


def test_parse_notification():
    t = bankmsg.parse_notification(_arrival())
    assert t.kind == "arrival" and t.amount == Decimal("100.50") and isinstance(t.amount, Decimal)
    assert t.virtual_account == "62300000000123450" and t.counterparty_account == "62220001"
    assert t.booked_at == dt.datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    again = bankmsg.parse_notification(bankmsg.notification_body(t))
    assert again == t


@pytest.mark.parametrize("body,code", [
    (b"not json", "invalid_json"),
    (b"[1, 2]", "invalid_json"),
    (b"\xff\xfe", "invalid_json"),
    (b'{"kind": "arrival", "amount": 100.5}', "invalid_amount"),
    (b'{"kind": "arrival", "amount": NaN}', "invalid_json"),
])
def test_malformed_bodies(body, code):
    with pytest.raises(DepositFormatError) as exc:
        bankmsg.parse_notification(body)
    assert exc.value.code == code


@pytest.mark.parametrize("overrides,field", [
    ({"kind": "gift"}, "kind"),
    ({"txn_id": ""}, "txn_id"),
    ({"txn_id": "x" * 65}, "txn_id"),
    ({"virtual_account": ""}, "virtual_account"),
    ({"amount": "-1"}, "amount"),
    ({"currency": "USD"}, "currency"),
    ({"booked_at": "2026-11-20T10:00:00"}, "booked_at"),
    ({"booked_at": "yesterday"}, "booked_at"),
    ({"counterparty": "me"}, "counterparty"),
    ({"status": "failed"}, "status"),
])
def test_invalid_fields_named(overrides, field):
    with pytest.raises(DepositFormatError) as exc:
        bankmsg.parse_notification(_arrival(**overrides))
    assert exc.value.field == field


def test_refund_needs_reference_and_may_fail():
    with pytest.raises(DepositFormatError) as exc:
        bankmsg.parse_notification(_arrival(kind="refund"))
    assert exc.value.field == "reference"
    t = bankmsg.parse_notification(_arrival(kind="refund", reference="RF00000001", status="failed",
                                            failure_reason="account closed"))
    assert (t.status, t.reference, t.failure_reason) == ("failed", "RF00000001", "account closed")


# --- statements -----------------------------------------------------------------------------------

STATEMENT = (
    "\ufefftxn_id,booked_at,direction,virtual_account,amount,currency,counterparty_account,counterparty_name,"
    "counterparty_bank,reference,extra\n"
    "T1,2026-11-20 09:30:00,C,62300000000123450,100000.00,CNY,6222 0001,Bidder 1,Demo Bank,,x\n"
    "\n"
    "T2,2026-11-20T01:00:00Z,d,62300000000123450,100.00,,6222 0001,Bidder 1,Demo Bank,RF00000007,\n"
    "T3,2026-11-20 09:31:00,X,62300000000123450,1.00,CNY,,,,,\n"
    "T4,2026-11-20 09:32:00,C,62300000000123450,1.001,CNY,,,,,\n"
)


def test_statement_parsing_with_errors_and_line_numbers():
    items = list(statement.iter_statement(STATEMENT.encode("utf-8")))
    lines = [i for i in items if isinstance(i, statement.StatementLine)]
    errors = [i for i in items if isinstance(i, statement.LineError)]
    assert [ln.transfer.txn_id for ln in lines] == ["T1", "T2"]
    first = lines[0].transfer
    assert first.booked_at == dt.datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # bank-local time is UTC+8
    assert first.counterparty_account == "62220001" and first.amount == Decimal("100000.00")
    assert lines[1].transfer.kind == "refund" and lines[1].transfer.reference == "RF00000007"
    assert [(e.line_no, e.code) for e in errors] == [(5, "invalid_kind"), (6, "invalid_amount")]
    assert lines[0].line_no == 2 and lines[1].line_no == 4


def test_statement_header_must_name_required_columns():
    with pytest.raises(DepositFormatError, match="amount"):
        list(statement.iter_statement(b"txn_id,booked_at,direction,virtual_account\nT1,x,C,1\n"))
    with pytest.raises(DepositFormatError):
        list(statement.iter_statement(b"\xff\xfe\x00garbage"))


def test_statement_write_and_read_back(tmp_path):
    t = bankmsg.parse_notification(_arrival())
    path = tmp_path / "s.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        assert statement.write_statement(out, [t, t]) == 2
    with path.open("rb") as f:
        parsed = [i.transfer for i in statement.iter_statement(f)]
    assert parsed == [t, t]


# --- interest -------------------------------------------------------------------------------------

def test_interest_actual_360_and_365():
    arrival = dt.datetime(2026, 1, 1, 10, 0, tzinfo=CST)
    refund = dt.datetime(2026, 1, 31, 9, 0, tzinfo=CST)
    r360 = interest.compute_interest([(Decimal("100000.00"), arrival)], until=refund, rate=Decimal("0.0035"),
                                     basis=360)
    # 100,000 × 30 days × 0.35 % / 360 = 29.1666… → 29.17
    assert r360.interest == Decimal("29.17") and r360.lines[0].days == 30
    r365 = interest.compute_interest([(Decimal("100000.00"), arrival)], until=refund, rate=Decimal("0.0035"),
                                     basis=365)
    assert r365.interest == Decimal("28.77")  # 28.767…


def test_interest_balance_days_over_several_arrivals_rounds_once():
    until = dt.date(2026, 3, 1)
    result = interest.compute_interest(
        [(Decimal("60000.00"), dt.date(2026, 2, 1)), (Decimal("40000.00"), dt.date(2026, 2, 15))],
        until=until, rate=Decimal("0.0035"), basis=360)
    assert result.balance_days == Decimal("60000.00") * 28 + Decimal("40000.00") * 14
    assert result.interest == Decimal("21.78")  # 2,240,000 × 0.0035 / 360 = 21.777…
    assert "CNY·days" in result.describe()


def test_interest_days_counted_in_bank_time_zone():
    # 23:30 and 00:30 the next day in Beijing are one day apart, although the same UTC day.
    arrival = dt.datetime(2026, 5, 1, 15, 30, tzinfo=UTC)  # 23:30 CST
    refund = dt.datetime(2026, 5, 1, 16, 30, tzinfo=UTC)  # 00:30 CST next day
    assert interest.days_between(arrival, refund) == 1
    assert interest.days_between(refund, arrival) == 0
    same_day = interest.compute_interest([(Decimal("1000.00"), arrival)], until=arrival, rate=Decimal("0.0035"),
                                         basis=360)
    assert same_day.interest == Decimal("0.00")


def test_interest_refuses_floats_and_bad_basis():
    with pytest.raises(TypeError):
        interest.compute_interest([(Decimal(1), dt.date(2026, 1, 1))], until=dt.date(2026, 2, 1), rate=0.0035,
                                  basis=360)
    with pytest.raises(ValueError):
        interest.compute_interest([], until=dt.date(2026, 2, 1), rate=Decimal("0.0035"), basis=366)
    with pytest.raises(TypeError):
        interest.compute_interest([(1000.0, dt.date(2026, 1, 1))], until=dt.date(2026, 2, 1),
                                  rate=Decimal("0.0035"), basis=360)


# --- guarantee letters ------------------------------------------------------------------------------

ISSUER = {"name": "Demo Guarantee Insurance", "uscc": "91310000MA1FL0000X"}


def _letter(**overrides):
    letter = {
        "v": 1, "letter_no": "BH-2026-0001", "issuer": ISSUER,
        "applicant": {"name": "Bidder 1", "uscc": "91330100MA2B00001A"},
        "beneficiary": {"name": "City Works", "uscc": "11330100002500001B"},
        "tender": "12", "lot": "34", "amount": "100000.00", "currency": "CNY",
        "valid_from": "2026-11-01T00:00:00+08:00", "valid_until": "2027-03-01T00:00:00+08:00",
        "issued_at": "2026-11-01T09:00:00+08:00",
    }
    letter.update(overrides)
    return letter


def _trust(private_key, uscc=ISSUER["uscc"]):
    key, alg, kid = guarantee.load_public_key(guarantee.spki_b64(private_key.public_key()))
    return {kid: guarantee.TrustedKey(key_id=kid, alg=alg, public_key=key, issuer_uscc=uscc)}


@pytest.fixture(params=["p256", "ed25519"])
def issuer_key(request):
    return ec.generate_private_key(ec.SECP256R1()) if request.param == "p256" else ed25519.Ed25519PrivateKey.generate()


def _expect(**overrides):
    values = dict(amount=Decimal("100000.00"), beneficiary_uscc="11330100002500001B",
                  applicant_uscc="91330100MA2B00001A", tender="12", lot="34",
                  at=dt.datetime(2026, 11, 10, tzinfo=UTC), cover_until=dt.datetime(2027, 2, 1, tzinfo=UTC))
    values.update(overrides)
    return guarantee.LetterExpectation(**values)


def test_signed_letter_verifies_and_fits(issuer_key):
    signed = guarantee.sign_letter(_letter(), issuer_key)
    letter = guarantee.verify_letter(json.dumps(signed).encode(), _trust(issuer_key))
    assert letter.amount == Decimal("100000.00") and letter.lot == "34"
    assert letter.alg == ("ES256" if isinstance(issuer_key, ec.EllipticCurvePrivateKey) else "Ed25519")
    guarantee.check_letter(letter, _expect())


def test_der_encoded_ecdsa_signature_accepted():
    key = ec.generate_private_key(ec.SECP256R1())
    signed = guarantee.sign_letter(_letter(), key)
    from audit.canonical import canonical_bytes

    der = key.sign(canonical_bytes(_letter()), ec.ECDSA(hashes.SHA256()))
    signed["signature"] = base64.b64encode(der).decode()
    guarantee.verify_letter(signed, _trust(key))


def test_tampered_letter_refused(issuer_key):
    signed = guarantee.sign_letter(_letter(), issuer_key)
    signed["letter"]["amount"] = "1000000.00"
    with pytest.raises(SignatureRefused) as exc:
        guarantee.verify_letter(signed, _trust(issuer_key))
    assert exc.value.code == "bad_signature"


def test_untrusted_key_wrong_alg_and_issuer_mismatch(issuer_key):
    signed = guarantee.sign_letter(_letter(), issuer_key)
    other = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(SignatureRefused) as exc:
        guarantee.verify_letter(signed, _trust(other))
    assert exc.value.code == "untrusted_issuer"
    with pytest.raises(SignatureRefused) as exc:
        guarantee.verify_letter(dict(signed, alg="ES256" if signed["alg"] == "Ed25519" else "Ed25519"),
                                _trust(issuer_key))
    assert exc.value.code == "bad_algorithm"
    with pytest.raises(SignatureRefused) as exc:
        guarantee.verify_letter(signed, _trust(issuer_key, uscc="91310000MA1FL9999Y"))
    assert exc.value.code == "issuer_mismatch"


def test_letter_with_float_or_garbage_refused():
    key = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(DepositFormatError):
        guarantee.verify_letter(b'{"letter": {"amount": 1.5}, "alg": "Ed25519"}', _trust(key))
    with pytest.raises(DepositFormatError):
        guarantee.verify_letter(b"garbage", _trust(key))
    with pytest.raises(DepositFormatError):
        guarantee.load_public_key("not a key")
    with pytest.raises(DepositFormatError, match="P-256"):
        guarantee.load_public_key(guarantee.spki_b64(ec.generate_private_key(ec.SECP384R1()).public_key()))


@pytest.mark.parametrize("expect,code", [
    ({"amount": Decimal("100000.01")}, "amount_insufficient"),
    ({"beneficiary_uscc": "91330100MA2B00001A"}, "wrong_beneficiary"),
    ({"applicant_uscc": "11330100002500001B"}, "wrong_applicant"),
    ({"lot": "35"}, "wrong_lot"),
    ({"tender": "13"}, "wrong_lot"),
    ({"at": dt.datetime(2026, 10, 1, tzinfo=UTC)}, "not_yet_valid"),
    ({"cover_until": dt.datetime(2027, 3, 2, tzinfo=UTC)}, "validity_too_short"),
])
def test_content_checks(expect, code):
    key = ed25519.Ed25519PrivateKey.generate()
    letter = guarantee.verify_letter(guarantee.sign_letter(_letter(), key), _trust(key))
    with pytest.raises(DepositFormatError) as exc:
        guarantee.check_letter(letter, _expect(**expect))
    assert exc.value.code == code


PARITY_ROWS = [
    ["T1", "2026-11-20 09:30:00", "C", "6230 0000 0001 2345 0", "100000", "CNY", "6222-0001", "Bidder", "Bank", ""],
    ["T2", "2026-11-20T01:00:00Z", "d", "62300000000123450", "1.5", "", " 6222 0001 ", "", "", "RF1"],
    ["T3", "2026-11-20T01:00:00+08:00", "C", "62300000000123450", "0.01", "CNY", "", "", "", ""],
    ["T4", "2026-11-20 09:30:00", "X", "62300000000123450", "1.00", "CNY", "", "", "", ""],
    ["", "2026-11-20 09:30:00", "C", "62300000000123450", "1.00", "CNY", "", "", "", ""],
    ["T6", "2026-11-20 09:30:00", "C", "", "1.00", "CNY", "", "", "", ""],
    ["T7", "2026-11-20 09:30:00", "C", "62300000000123450", "1.001", "CNY", "", "", "", ""],
    ["T8", "2026-11-20 09:30:00", "C", "62300000000123450", "1.00", "USD", "", "", "", ""],
    ["T9", "2026-11-20 09:30", "C", "62300000000123450", "1.00", "CNY", "", "", "", ""],
    ["T10", "2026-11-20 09:30:00", "D", "62300000000123450", "1.00", "CNY", "", "", "", ""],
    ["T11", "2026-11-20 09:30:00", "C", "62300000000123450", "1.00", "CNY", "", "x" * 201, "", ""],
]


@pytest.mark.parametrize("row", PARITY_ROWS, ids=[r[0] or "empty" for r in PARITY_ROWS])
def test_statement_fast_path_equals_the_notification_path(row):
    """The statement parser's fast path and the notification's validation give the same Transfer or error."""
    mapping = dict(zip(statement.COLUMNS, row, strict=True))
    try:
        expected = statement.reference_transfer(mapping)
    except DepositFormatError as exc:
        expected = ("error", exc.code, exc.field)
    try:
        got = statement._fast_transfer(row, {name: i for i, name in enumerate(statement.COLUMNS)})
    except DepositFormatError as exc:
        got = ("error", exc.code, exc.field)
    assert got == expected
