"""Messages from the bank (代收银行): the HMAC signature and the transfer they report.

Signature scheme, version 1 (docs/deposits.md; the bank simulator implements it too):

    X-Bank-Timestamp: <unix time in whole seconds, when the bank signed>
    X-Bank-Signature: v1=<lowercase hex HMAC-SHA256(secret, "<timestamp>." || raw body bytes)>

- The MAC covers the timestamp and the exact body bytes, so neither can be changed.
- A message whose timestamp is more than `tolerance` seconds (default 300) away from
  the server's clock is refused as stale.
- A message whose signed payload (timestamp + body) was accepted before is refused as
  a replay: the services keep the SHA-256 of every accepted payload (`message_digest`).
  A bank that re-sends a notification signs it again with a new timestamp; it is then
  accepted and, being idempotent on the bank's transaction id, books nothing twice.
- Several secrets may be configured at once (rotation): a signature by any of them passes.

A notification body is a JSON object (money as decimal strings, never JSON numbers):

    {"kind": "arrival" | "refund",
     "txn_id": "<the bank's transaction id, unique per bank>",
     "virtual_account": "<the sub-account credited (arrival) or debited (refund)>",
     "amount": "100000.00", "currency": "CNY",
     "booked_at": "<RFC 3339 with offset: when the money arrived / left>",
     "counterparty": {"account_number": "...", "account_name": "...", "bank": "..."},
     "reference": "<refund instruction reference, refunds only>",
     "status": "executed" | "failed",           (refunds only; default executed)
     "failure_reason": "..."}                    (failed refunds only)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from config.inputs import datetime_problem, text_problem
from trading.deposits.errors import DepositFormatError, SignatureRefused
from trading.deposits.money import parse_amount
from trading.deposits.vaccount import normalize_account_number

TIMESTAMP_HEADER = "X-Bank-Timestamp"
SIGNATURE_HEADER = "X-Bank-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024

ARRIVAL = "arrival"
REFUND = "refund"
KINDS = (ARRIVAL, REFUND)
EXECUTED = "executed"
FAILED = "failed"

_TXN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,63}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


# --- signature ------------------------------------------------------------------------------

def signed_payload(timestamp: int | str, body: bytes) -> bytes:
    return str(timestamp).encode("ascii") + b"." + body


def sign(secret: bytes, timestamp: int | str, body: bytes) -> str:
    """The X-Bank-Signature header value for `body` signed at `timestamp`."""
    mac = hmac.new(secret, signed_payload(timestamp, body), hashlib.sha256).hexdigest()
    return f"{SCHEME}={mac}"


def signed_headers(secret: bytes, body: bytes, *, timestamp: int) -> dict[str, str]:
    """Both headers, as the bank (or its simulator) sends them."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


@dataclass(frozen=True)
class VerifiedMessage:
    timestamp: int
    digest: str  # SHA-256 hex of the signed payload: the replay key


def message_digest(timestamp: int | str, body: bytes) -> str:
    return hashlib.sha256(signed_payload(timestamp, body)).hexdigest()


def verify(*, secrets: Sequence[bytes], timestamp: str | None, signature: str | None, body: bytes,
           now: float, tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> VerifiedMessage:
    """Check a message's signature and freshness; raise SignatureRefused otherwise.

    Replays are the caller's check (it stores `digest`)."""
    if not secrets:
        raise SignatureRefused("no bank secret is configured", code="not_configured")
    if not timestamp or not signature:
        raise SignatureRefused(f"the {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required",
                               code="signature_missing")
    timestamp = timestamp.strip()
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise SignatureRefused(f"{TIMESTAMP_HEADER} must be unix time in whole seconds", code="bad_timestamp")
    scheme, _, mac = signature.strip().partition("=")
    if scheme != SCHEME or not _HEX64.match(mac):
        raise SignatureRefused(f"{SIGNATURE_HEADER} must be 'v1=<64 lowercase hex digits>'", code="bad_signature")
    payload = signed_payload(timestamp, body)
    if not any(hmac.compare_digest(hmac.new(s, payload, hashlib.sha256).hexdigest(), mac) for s in secrets):
        raise SignatureRefused("the bank signature does not verify", code="bad_signature")
    ts = int(timestamp)
    if abs(now - ts) > tolerance:
        raise SignatureRefused(
            f"the message was signed {int(now - ts)} s from the server's time; at most {tolerance} s are accepted",
            code="stale",
        )
    return VerifiedMessage(timestamp=ts, digest=hashlib.sha256(payload).hexdigest())


# --- the transfer reported ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Transfer:
    """One movement of money on a virtual sub-account, as reported by a notification or a statement line."""

    kind: str  # ARRIVAL (credit) or REFUND (debit)
    txn_id: str
    virtual_account: str
    amount: Decimal
    booked_at: dt.datetime
    counterparty_account: str = ""
    counterparty_name: str = ""
    counterparty_bank: str = ""
    currency: str = "CNY"
    reference: str = ""
    status: str = EXECUTED
    failure_reason: str = ""


def _refuse_float(text: str):
    raise DepositFormatError("numbers are not accepted: send money as a decimal string", code="invalid_amount")


def _constant(name: str):
    raise DepositFormatError(f"{name} is not JSON", code="invalid_json")


def parse_timestamp(value: object, *, field: str = "booked_at") -> dt.datetime:
    if not isinstance(value, str) or not value.strip():
        raise DepositFormatError(f"{field} must be an RFC 3339 date-time", code="invalid_time", field=field)
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise DepositFormatError(f"{field} {value!r} is not an RFC 3339 date-time", code="invalid_time",
                                 field=field) from None
    if moment.tzinfo is None:
        raise DepositFormatError(f"{field} must carry a UTC offset (e.g. +08:00 or Z)", code="invalid_time",
                                 field=field)
    problem = datetime_problem(moment)
    if problem:
        raise DepositFormatError(f"{field}: {problem}", code="invalid_time", field=field)
    return moment


def txn_id_valid(value: object) -> bool:
    return isinstance(value, str) and bool(_TXN_ID.match(value))


def _text(data: Mapping, key: str, max_len: int, *, field: str | None = None) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DepositFormatError(f"{field or key} must be a string", field=field or key)
    if len(value) > max_len:
        raise DepositFormatError(f"{field or key} is longer than {max_len} characters", field=field or key)
    check_text(value, field=field or key)
    return value.strip()


def check_text(value: str, *, field: str) -> None:
    """Refuse text the database cannot store (NUL, lone surrogates): config/inputs.py."""
    problem = text_problem(value)
    if problem:
        raise DepositFormatError(f"{field}: {problem}", code="invalid_text", field=field)


def transfer_from_mapping(data: Mapping) -> Transfer:
    """Validate a notification's JSON object (or a statement row mapped to the same keys)."""
    kind = data.get("kind")
    if kind not in KINDS:
        raise DepositFormatError("kind must be 'arrival' or 'refund'", code="invalid_kind", field="kind")
    txn_id = data.get("txn_id")
    if not txn_id_valid(txn_id):
        raise DepositFormatError("txn_id must be 1–64 characters: letters, digits and _ . : / -",
                                 code="invalid_txn_id", field="txn_id")
    account = normalize_account_number(_text(data, "virtual_account", 40))
    if not account:
        raise DepositFormatError("virtual_account is required", code="invalid_account", field="virtual_account")
    currency = _text(data, "currency", 3) or "CNY"
    if currency != "CNY":
        raise DepositFormatError("only CNY deposits are accepted", code="invalid_currency", field="currency")
    counterparty = data.get("counterparty") or {}
    if not isinstance(counterparty, Mapping):
        raise DepositFormatError("counterparty must be an object", field="counterparty")
    status = _text(data, "status", 16) or EXECUTED
    if status not in (EXECUTED, FAILED) or (kind == ARRIVAL and status != EXECUTED):
        raise DepositFormatError("status must be 'executed' or, for refunds, 'failed'", field="status")
    reference = _text(data, "reference", 40)
    if kind == REFUND and not reference:
        raise DepositFormatError("a refund carries the reference of the refund instruction",
                                 code="invalid_reference", field="reference")
    return Transfer(
        kind=kind,
        txn_id=txn_id,
        virtual_account=account,
        amount=parse_amount(data.get("amount")),
        currency=currency,
        booked_at=parse_timestamp(data.get("booked_at")),
        counterparty_account=normalize_account_number(
            _text(counterparty, "account_number", 40, field="counterparty.account_number")),
        counterparty_name=_text(counterparty, "account_name", 200, field="counterparty.account_name"),
        counterparty_bank=_text(counterparty, "bank", 200, field="counterparty.bank"),
        reference=reference,
        status=status,
        failure_reason=_text(data, "failure_reason", 300),
    )


def parse_notification(body: bytes) -> Transfer:
    """The transfer in a notification body; raise DepositFormatError for anything malformed."""
    if len(body) > MAX_BODY_BYTES:
        raise DepositFormatError("the message is too large", code="too_large")
    try:
        data = json.loads(body.decode("utf-8"), parse_float=_refuse_float, parse_constant=_constant)
    except UnicodeDecodeError:
        raise DepositFormatError("the body must be UTF-8 JSON", code="invalid_json") from None
    except json.JSONDecodeError as exc:
        raise DepositFormatError(f"the body is not JSON: {exc.msg}", code="invalid_json") from None
    except RecursionError:
        raise DepositFormatError("the body is nested too deeply", code="invalid_json") from None
    if not isinstance(data, dict):
        raise DepositFormatError("the body must be a JSON object", code="invalid_json")
    return transfer_from_mapping(data)


def notification_body(transfer: Transfer) -> bytes:
    """The JSON body that reports `transfer` (the simulator and the tests send it)."""
    data: dict = {
        "kind": transfer.kind,
        "txn_id": transfer.txn_id,
        "virtual_account": transfer.virtual_account,
        "amount": format(transfer.amount, "f"),
        "currency": transfer.currency,
        "booked_at": transfer.booked_at.isoformat(),
        "counterparty": {
            "account_number": transfer.counterparty_account,
            "account_name": transfer.counterparty_name,
            "bank": transfer.counterparty_bank,
        },
    }
    if transfer.kind == REFUND:
        data["reference"] = transfer.reference
        data["status"] = transfer.status
        if transfer.failure_reason:
            data["failure_reason"] = transfer.failure_reason
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
