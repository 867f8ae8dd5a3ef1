"""`manage.py deposits <subcommand>` (the command module in trading/management/commands/ delegates here).

    deposits import-statement FILE [--user USERNAME]
        Import the bank's daily statement (CSV, trading/deposits/statement.py) and print
        the reconciliation report's summary. Idempotent: importing the same file again books nothing.

    deposits simulate-bank --registration ID --amount 100000.00 [--payer ACCOUNT] [--url URL]
                           [--txn-id ID] [--booked-at RFC3339] [--refund REFERENCE] [--dry-run]
        The bank simulator for demos: signs a notification with the configured
        BANK_WEBHOOK_SECRET (or the local derived secret) and POSTs it to a running
        server, exactly as the bank would. --refund confirms a refund instruction instead.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from trading import clock
from trading.deposits import bankmsg, conf
from trading.deposits.bankmsg import Transfer


class Command(BaseCommand):
    help = "Bid deposits: import a bank statement, or simulate the bank's webhook."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import-statement", help="import the bank's daily statement (CSV)")
        imp.add_argument("file")
        imp.add_argument("--user", help="the platform administrator recorded as importer (default: system)")
        sim = sub.add_parser("simulate-bank", help="sign and POST a bank notification to a running server")
        sim.add_argument("--registration", type=int, help="registration id (its sub-account is credited)")
        sim.add_argument("--account", help="a virtual sub-account number instead of --registration")
        sim.add_argument("--amount", required=True)
        sim.add_argument("--payer", help="payer account (default: the bidder's basic account)")
        sim.add_argument("--txn-id", help="the bank's transaction id (default: random)")
        sim.add_argument("--booked-at", help="RFC 3339 time the money arrived (default: now)")
        sim.add_argument("--refund", metavar="REFERENCE", help="confirm this refund instruction instead")
        sim.add_argument("--failed", action="store_true", help="with --refund: report the refund as failed")
        sim.add_argument("--url", default="http://127.0.0.1:8000", help="the platform's base URL")
        sim.add_argument("--dry-run", action="store_true", help="print the signed request, do not send it")

    def handle(self, *args, **options):
        if options["action"] == "import-statement":
            return self.import_statement(options)
        return self.simulate_bank(options)

    def import_statement(self, options):
        from trading.deposits.selectors import reconciliation_report
        from trading.deposits.services.statements import statement_import

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = "system"
        if options.get("user"):
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"no such user: {options['user']}")
        started = time.perf_counter()
        from config.errors import DomainError

        try:
            statement = statement_import(actor=actor, data=path.read_bytes(), file_name=path.name, source="command")
        except DomainError as exc:
            raise CommandError(exc.message) from None
        elapsed = time.perf_counter() - started
        # Shell access reads the database anyway (docs/accounts.md, "Operators"): nothing to mask here.
        report = reconciliation_report(statement=statement, reveal_sealed=True)
        self.stdout.write(
            f"statement {statement.pk}: {statement.line_count} lines in {elapsed:.2f} s "
            f"({statement.line_count / elapsed if elapsed else 0:,.0f} lines/s); booked {statement.booked_count}, "
            f"already known {statement.known_count}, errors {statement.error_count}"
        )
        self.stdout.write(
            f"reconciliation {report['period_start']}..{report['period_end']}: "
            f"duplicated {len(report['duplicated'])}, missing from statement {len(report['missing_from_statement'])}, "
            f"mismatched {len(report['mismatched'])}, statement only {len(report['statement_only'])}, "
            f"suspense {len(report['suspense'])}, balanced {report['balanced']}"
        )
        for item in report["duplicated"][:20]:
            self.stdout.write(f"  duplicated {item.get('txn_id', 'sealed')} on lines {item.get('lines', '?')}")
        for item in report["missing_from_statement"][:20]:
            self.stdout.write(f"  missing from statement {item.get('txn_id', 'sealed')} {item.get('amount', '')}")
        for error in statement.errors[:20]:
            self.stdout.write(f"  {error['message']}")

    def simulate_bank(self, options):
        from trading.models.deposit import DepositAccount, RefundInstruction

        amount = Decimal(options["amount"])
        booked_at = bankmsg.parse_timestamp(options["booked_at"]) if options.get("booked_at") else clock.now()
        if options.get("refund"):
            instruction = RefundInstruction.objects.filter(reference=options["refund"]).first()
            if instruction is None:
                raise CommandError(f"no refund instruction {options['refund']}")
            transfer = Transfer(kind="refund", txn_id=options.get("txn_id") or f"SIM-{uuid.uuid4().hex[:16]}",
                                virtual_account=instruction.from_account, amount=amount, booked_at=booked_at,
                                counterparty_account=instruction.payee_account,
                                counterparty_name=instruction.payee_name, counterparty_bank=instruction.payee_bank,
                                reference=instruction.reference, status="failed" if options["failed"] else "executed",
                                failure_reason="simulated failure" if options["failed"] else "")
        else:
            qs = DepositAccount.objects.select_related("bidder")
            if options.get("registration"):
                account = qs.filter(registration_id=options["registration"]).first()
            elif options.get("account"):
                account = qs.filter(number=options["account"]).first()
            else:
                raise CommandError("give --registration or --account (or --refund)")
            number = account.number if account else (options.get("account") or "")
            if not number:
                raise CommandError("no such registration / sub-account")
            bidder = account.bidder if account else None
            transfer = Transfer(
                kind="arrival", txn_id=options.get("txn_id") or f"SIM-{uuid.uuid4().hex[:16]}",
                virtual_account=number, amount=amount, booked_at=booked_at,
                counterparty_account=options.get("payer") or (bidder.basic_account_number if bidder else ""),
                counterparty_name=bidder.basic_account_name if bidder else "",
                counterparty_bank=bidder.basic_account_bank if bidder else "",
            )
        body = bankmsg.notification_body(transfer)
        secret = conf.webhook_secrets()
        if not secret:
            raise CommandError("no BANK_WEBHOOK_SECRET configured")
        headers = bankmsg.signed_headers(secret[0], body, timestamp=int(time.time()))
        url = options["url"].rstrip("/") + "/api/v1/deposits/bank-notifications"
        if options["dry_run"]:
            self.stdout.write(f"POST {url}")
            for k, v in headers.items():
                self.stdout.write(f"{k}: {v}")
            self.stdout.write(body.decode())
            return
        request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 (the operator's URL)
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                self.stdout.write(f"{response.status} {response.read().decode()}")
        except urllib.error.HTTPError as exc:
            raise CommandError(f"{exc.code} {exc.read().decode()}") from None
        except urllib.error.URLError as exc:
            raise CommandError(f"cannot reach {url}: {exc.reason}") from None
