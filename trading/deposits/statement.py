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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from trading.deposits.bankmsg import ARRIVAL, REFUND, Transfer, transfer_from_mapping
from trading.deposits.errors import DepositFormatError

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


def iter_statement(source) -> Iterator[StatementLine | LineError]:
    """Parse a statement (bytes, str, a binary or text file, or an iterable of text lines).

    Yields a StatementLine per good row and a LineError per bad one; raises
    DepositFormatError if the header lacks a required column."""
    try:
        reader = csv.DictReader(_text_lines(source))
        header = [h.strip().lstrip("\ufeff") for h in (reader.fieldnames or [])]
    except UnicodeDecodeError:
        raise DepositFormatError("the statement must be UTF-8 CSV", code="invalid_statement") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DepositFormatError(f"the statement header lacks the column(s) {', '.join(missing)}",
                                 code="invalid_statement")
    reader.fieldnames = header
    try:
        for row in reader:
            line_no = reader.line_num
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # blank line
            try:
                yield StatementLine(line_no, transfer_from_mapping(_row_mapping(row)))
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
