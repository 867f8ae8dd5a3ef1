"""`manage.py demo_fixed_price`: one fixed-price comparison (固定价比选) from notice to contract."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from demo.fixed_price import DemoRefused, demo_fixed_price_run


class Command(BaseCommand):
    help = ("Play one fixed-price comparison end to end through the real services (notice, registration, "
            "deposits, review, objection, public drawing, a lapse with forfeit and credit record, the next "
            "reserve, publicity, contract, refunds) on a demo clock; docs/smallworks.md.")

    def handle(self, *args, **options):
        try:
            result = demo_fixed_price_run(lambda line: self.stdout.write(line))
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"{result.code}: {result.status}, contractor {result.contractor}; {result.lapsed} lapsed "
            f"(record {result.record})"))
