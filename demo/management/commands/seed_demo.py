"""Demo data for every role; safe to run again (idempotent)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo import experts
from demo.accounts import DEMO_PASSWORD, seed_accounts

# Demo data beyond the accounts: each a `seed()` returning the lines to print, run in this order.
APP_SEEDS = [experts.seed]


class Command(BaseCommand):
    help = "Create demo organisations and users for every role (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="allow in production (never do this)")

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["force"]:
            raise CommandError("seed_demo creates accounts with a published password; refused in production")
        accounts = seed_accounts()
        for seed in APP_SEEDS:
            for line in seed() or []:
                self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD})"))
        for account in accounts:
            self.stdout.write(f"  {account.username:<22} {', '.join(account.roles):<32} {account.organisation}")
