"""Demo data for every role; safe to run again (idempotent)."""

from __future__ import annotations

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_PASSWORD, seed_accounts

# Other apps add their demo data with a `seed()` in these modules, run in order.
APP_SEEDS = ["experts.demo", "trading.demo"]


class Command(BaseCommand):
    help = "Create demo organisations and users for every role (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="allow in production (never do this)")

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["force"]:
            raise CommandError("seed_demo creates accounts with a published password; refused in production")
        accounts = seed_accounts()
        for module_name in APP_SEEDS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            for line in module.seed() or []:
                self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD})"))
        for account in accounts:
            self.stdout.write(f"  {account.username:<22} {', '.join(account.roles):<32} {account.organisation}")
