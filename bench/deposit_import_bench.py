"""Deposit statement import benchmark: a 100,000-line bank statement, imported and reconciled.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/deposit_import_bench.py

Target (Deposits issue): at least 5,000 lines/s on PostgreSQL.

The statement covers 20 tenders × 5 lots × 20 bidders = 2,000 virtual sub-accounts and mixes
what a real day brings: full payments, deposits paid in two or three parts (top-ups), payments
from an account that is not the bidder's basic account (each returned by a refund instruction),
payments to unknown sub-accounts (suspense), and lines the bank listed twice (duplicates).
A share of the transactions was already reported by notifications before the import
(booked through the same code path), so the import meets known transactions too. The
import goes through `statement_import` exactly as the command and the upload page do:
every line is stored for reconciliation, new transactions become ledger entries and
audit events, the sub-accounts' balances and statuses are updated.
"""

from __future__ import annotations

import argparse
import io
import random
import time
from datetime import timedelta
from decimal import Decimal

import _django

KIND = _django.setup("deposit_bench")

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Organisation, User  # noqa: E402
from accounts.uscc import make_uscc  # noqa: E402
from trading.deposits.bankmsg import Transfer  # noqa: E402
from trading.deposits.booking import transfers_book  # noqa: E402
from trading.deposits.selectors import reconciliation_report  # noqa: E402
from trading.deposits.services.statements import statement_import  # noqa: E402
from trading.deposits.statement import write_statement  # noqa: E402
from trading.deposits.vaccount import make_virtual_account  # noqa: E402
from trading.models import Lot, Registration, Tender, TenderStatus  # noqa: E402
from trading.models.deposit import DepositAccount, DepositEntry, TransferSource  # noqa: E402

TENDERS, LOTS, BIDDERS = 20, 5, 20
DEPOSIT = Decimal("100000.00")


def make_world() -> list[DepositAccount]:
    now = timezone.now()
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(name=f"Bench Org {i}", uscc=make_uscc(f"9133010072{i:07d}"),
                         basic_account_number=f"6222{i:012d}", basic_account_name=f"Bench Org {i}",
                         basic_account_bank="Bench Bank")
            for i in range(BIDDERS + 2)
        ]
    )
    agent, tenderer, bidders = orgs[0], orgs[1], orgs[2:]
    user = User.objects.create(username="bench-agent", organisation=agent)
    tenders = Tender.objects.bulk_create(
        [
            Tender(code=f"GC-BENCH-{t:03d}", title=f"Bench tender {t}", tenderer=tenderer, agent=agent,
                   created_by=user, procedure_type="works", bid_deadline=now + timedelta(days=30),
                   status=TenderStatus.PUBLISHED, published_at=now)
            for t in range(TENDERS)
        ]
    )
    lots = Lot.objects.bulk_create(
        [
            Lot(tender=t, number=n + 1, title=f"Lot {n + 1}", estimated_price=Decimal("10000000.00"),
                deposit_amount=DEPOSIT)
            for t in tenders
            for n in range(LOTS)
        ]
    )
    regs = Registration.objects.bulk_create(
        [
            Registration(lot=lot, tender_id=lot.tender_id, bidder=b, registered_by=user, created_at=now,
                         updated_at=now)
            for lot in lots
            for b in bidders
        ]
    )
    return DepositAccount.objects.bulk_create(
        [
            DepositAccount(registration=r, tender_id=r.tender_id, lot_id=r.lot_id, bidder_id=r.bidder_id,
                           number=make_virtual_account("6230"), created_at=now, updated_at=now)
            for r in regs
        ]
    )


def make_statement(accounts: list[DepositAccount], lines: int, seed: int) -> tuple[list[Transfer], list[Transfer]]:
    """(statement transfers in file order, transfers notified before the import)."""
    rng = random.Random(seed)
    basic = dict(Organisation.objects.values_list("pk", "basic_account_number"))
    payer = {a.pk: basic[a.bidder_id] for a in accounts}
    start = timezone.now() - timedelta(hours=20)
    transfers: list[Transfer] = []
    n = 0

    def add(account_number, amount, payer_account):
        nonlocal n
        n += 1
        transfers.append(Transfer(kind="arrival", txn_id=f"BENCH{n:09d}", virtual_account=account_number,
                                  amount=amount, booked_at=start + timedelta(milliseconds=n * 500),
                                  counterparty_account=payer_account, counterparty_name="Bench payer",
                                  counterparty_bank="Bench Bank"))

    while len(transfers) < lines * 0.95:
        account = rng.choice(accounts)
        roll = rng.random()
        if roll < 0.55:  # one full payment
            add(account.number, DEPOSIT, payer[account.pk])
        elif roll < 0.80:  # two or three parts (a short payment and its top-ups)
            parts = rng.choice([2, 3])
            first = (DEPOSIT / parts).quantize(Decimal("0.01"))
            for _ in range(parts - 1):
                add(account.number, first, payer[account.pk])
            add(account.number, DEPOSIT - first * (parts - 1), payer[account.pk])
        elif roll < 0.92:  # from another account than the basic account
            add(account.number, DEPOSIT, f"9999{rng.randrange(10 ** 10):010d}")
        else:  # an unknown virtual sub-account (suspense)
            add(make_virtual_account("6230"), Decimal(rng.randrange(100, 10_000_000)) / 100, "8888000011112222")
    notified = [t for t in transfers if rng.random() < 0.10]
    # The bank lists some lines twice.
    out = list(transfers)
    while len(out) < lines:
        out.insert(rng.randrange(len(out)), rng.choice(transfers))
    return out[:lines], notified


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()

    t0 = time.perf_counter()
    accounts = make_world()
    transfers, notified = make_statement(accounts, args.lines, args.seed)
    for start in range(0, len(notified), 500):
        with transaction.atomic():
            transfers_book(notified[start:start + 500], source=TransferSource.WEBHOOK)
    buf = io.StringIO()
    write_statement(buf, transfers)
    data = buf.getvalue().encode("utf-8")
    setup = time.perf_counter() - t0
    entries_before = DepositEntry.objects.count()

    started = time.perf_counter()
    statement = statement_import(actor="system", data=data, file_name="bench.csv", source="command")
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    report = reconciliation_report(statement=statement, reveal_sealed=True)
    report_seconds = time.perf_counter() - started

    entries = DepositEntry.objects.count() - entries_before
    statuses = {}
    for status in DepositAccount.objects.values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    print(f"database: {KIND} ({connection.vendor}); machine: {_django.machine()}")
    print(f"setup (world, statement, {len(notified):,} notifications): {setup:.1f} s; "
          f"file {len(data) / 1e6:.1f} MB")
    print(f"import: {statement.line_count:,} lines in {elapsed:.2f} s = {statement.line_count / elapsed:,.0f} lines/s "
          f"(booked {statement.booked_count:,}, already known {statement.known_count:,}, "
          f"duplicate lines {statement.duplicate_count:,}, errors {statement.error_count}); "
          f"{entries:,} ledger entries")
    print(f"reconciliation report: {report_seconds:.2f} s; duplicated {len(report['duplicated']):,}, "
          f"missing {len(report['missing_from_statement']):,}, statement only {len(report['statement_only']):,}, "
          f"suspense {len(report['suspense']):,}")
    print(f"sub-account statuses: {dict(sorted(statuses.items()))}")


if __name__ == "__main__":
    main()
