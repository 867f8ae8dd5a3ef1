"""The bank's daily statement of the virtual sub-accounts (对账单), CSV.

UTF-8 (a byte-order mark is ignored), comma-separated, one header row naming the
columns (any order, extra columns ignored):

    txn_id,booked_at,direction,virtual_account,amount,currency,counterparty_account,counterparty_name,counterparty_bank,reference

- direction: `C` (credit: a deposit arrived on the sub-account) or `D` (debit: a refund
  or payout left it; `reference` names the platform's refund instruction).
- amount: a positive decimal string with at most 2 decimals; currency `CNY` (empty = CNY).
- booked_at: RFC 3339 with offset, or `YYYY-MM-DD HH:MM:SS` read in China Standard
  Time (UTC+08:00), the bank's local time.

Every row becomes the same `Transfer` a notification carries, so that both paths
book the same ledger entries. Malformed rows are reported with their line number
and skipped; they never stop the import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from trading.deposits.bankmsg import (
    ARRIVAL,
    REFUND,
    Transfer,
    check_text,
    parse_timestamp,
    transfer_from_mapping,
    txn_id_valid,
)
from trading.deposits.errors import DepositFormatError
from trading.deposits.money import parse_amount
from trading.deposits.vaccount import normalize_account_number

COLUMNS = ("txn_id", "booked_at", "direction", "virtual_account", "amount", "currency",
           "counterparty_account", "counterparty_name", "counterparty_bank", "reference")
REQUIRED = ("txn_id", "booked_at", "direction", "virtual_account", "amount")
DIRECTIONS = {"C": ARRIVAL, "D": REFUND}
BANK_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class StatementLine:
    line_no: int
    transfer: Transfer


@dataclass(frozen=True, slots=True)
class LineError:
    line_no: int
    code: str
    message: str


def _booked_at(value: str) -> str:
    value = (value or "").strip()
    if len(value) == 19 and value[10] == " ":  # bank-local "YYYY-MM-DD HH:MM:SS"
        try:
            return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BANK_TZ).isoformat()
        except ValueError:
            return value
    return value


def _row_mapping(row: dict[str, str]) -> dict:
    direction = (row.get("direction") or "").strip().upper()
    if direction not in DIRECTIONS:
        raise DepositFormatError("direction must be C (credit) or D (debit)", code="invalid_kind",
                                 field="direction")
    return {
        "kind": DIRECTIONS[direction],
        "txn_id": (row.get("txn_id") or "").strip(),
        "virtual_account": row.get("virtual_account") or "",
        "amount": (row.get("amount") or "").strip(),
        "currency": (row.get("currency") or "").strip(),
        "booked_at": _booked_at(row.get("booked_at") or ""),
        "counterparty": {
            "account_number": row.get("counterparty_account") or "",
            "account_name": row.get("counterparty_name") or "",
            "bank": row.get("counterparty_bank") or "",
        },
        "reference": row.get("reference") or "",
    }


def _text_lines(source: Iterable[str] | io.IOBase | bytes | str) -> Iterable[str]:
    if isinstance(source, bytes):
        return io.StringIO(source.decode("utf-8-sig"), newline="")
    if isinstance(source, str):
        return io.StringIO(source.lstrip("\ufeff"), newline="")
    if isinstance(source, io.IOBase) and "b" in getattr(source, "mode", "b") and not isinstance(source, io.TextIOBase):
        return io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    return source


def reference_transfer(row: dict[str, str]) -> Transfer:
    """The slow path: the row as a notification mapping through `transfer_from_mapping` (parity tests)."""
    return transfer_from_mapping(_row_mapping(row))


_DIGITS = re.compile(r"^[0-9]+$")
_TEXT_LIMITS = {"virtual_account": 40, "currency": 3, "counterparty_account": 40, "counterparty_name": 200,
                "counterparty_bank": 200, "reference": 40}
_CP_FIELDS = {"counterparty_account": "counterparty.account_number", "counterparty_name": "counterparty.account_name",
              "counterparty_bank": "counterparty.bank"}


def _fast_transfer(row: list[str], at: dict[str, int]) -> Transfer:
    """A row straight to a Transfer: the checks of `transfer_from_mapping` (the notification path),
    without building the mapping first; tests/trading/deposits/test_units.py keeps the two in step."""

    def text(name: str) -> str:
        i = at.get(name)
        value = row[i] if i is not None and i < len(row) else ""
        if len(value) > _TEXT_LIMITS[name]:
            field = _CP_FIELDS.get(name, name)
            raise DepositFormatError(f"{field} is longer than {_TEXT_LIMITS[name]} characters", field=field)
        check_text(value, field=_CP_FIELDS.get(name, name))
        return value.strip()

    def cell(name: str) -> str:
        i = at.get(name)
        return row[i] if i is not None and i < len(row) else ""

    direction = cell("direction").strip().upper()
    kind = DIRECTIONS.get(direction)
    if kind is None:
        raise DepositFormatError("direction must be C (credit) or D (debit)", code="invalid_kind", field="direction")
    txn_id = cell("txn_id").strip()
    if not txn_id_valid(txn_id):
        raise DepositFormatError("txn_id must be 1–64 characters: letters, digits and _ . : / -",
                                 code="invalid_txn_id", field="txn_id")
    account = text("virtual_account")
    if not _DIGITS.match(account):
        account = normalize_account_number(account)
    if not account:
        raise DepositFormatError("virtual_account is required", code="invalid_account", field="virtual_account")
    currency = text("currency") or "CNY"
    if currency != "CNY":
        raise DepositFormatError("only CNY deposits are accepted", code="invalid_currency", field="currency")
    reference = text("reference")
    if kind == REFUND and not reference:
        raise DepositFormatError("a refund carries the reference of the refund instruction",
                                 code="invalid_reference", field="reference")
    payer = text("counterparty_account")
    if payer and not _DIGITS.match(payer):
        payer = normalize_account_number(payer)
    return Transfer(
        kind=kind,
        txn_id=txn_id,
        virtual_account=account,
        amount=parse_amount(cell("amount").strip()),
        currency=currency,
        booked_at=parse_timestamp(_booked_at(cell("booked_at"))),
        counterparty_account=payer,
        counterparty_name=text("counterparty_name"),
        counterparty_bank=text("counterparty_bank"),
        reference=reference,
    )


def iter_statement(source) -> Iterator[StatementLine | LineError]:
    """Parse a statement (bytes, str, a binary or text file, or an iterable of text lines).

    Yields a StatementLine per good row and a LineError per bad one; raises
    DepositFormatError if the header lacks a required column."""
    try:
        reader = csv.reader(_text_lines(source))
        header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    except UnicodeDecodeError:
        raise DepositFormatError("the statement must be UTF-8 CSV", code="invalid_statement") from None
    except csv.Error as exc:
        raise DepositFormatError(f"the statement is not readable CSV: {exc}", code="invalid_statement") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DepositFormatError(f"the statement header lacks the column(s) {', '.join(missing)}",
                                 code="invalid_statement")
    at = {name: header.index(name) for name in COLUMNS if name in header}
    try:
        for row in reader:
            line_no = reader.line_num
            if not any(v.strip() for v in row):
                continue  # blank line
            try:
                yield StatementLine(line_no, _fast_transfer(row, at))
            except DepositFormatError as exc:
                where = f" ({exc.field})" if exc.field else ""
                yield LineError(line_no, exc.code, f"line {line_no}{where}: {exc.message}")
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DepositFormatError(f"the statement is not readable UTF-8 CSV: {exc}", code="invalid_statement") from None


def statement_row(transfer: Transfer) -> list[str]:
    """The CSV row of `transfer` in COLUMNS order (bank simulator, benchmark, tests)."""
    return [
        transfer.txn_id,
        transfer.booked_at.isoformat(),
        "C" if transfer.kind == ARRIVAL else "D",
        transfer.virtual_account,
        format(transfer.amount, "f"),
        transfer.currency,
        transfer.counterparty_account,
        transfer.counterparty_name,
        transfer.counterparty_bank,
        transfer.reference,
    ]


def write_statement(out: io.TextIOBase, transfers: Iterable[Transfer]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for transfer in transfers:
        writer.writerow(statement_row(transfer))
        n += 1
    return n
