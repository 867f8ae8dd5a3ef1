"""manage.py demo_auction: a land listing ending in a timed round, through the real services."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from demo.auction import AuctionDemoOptions, DemoAuction
from demo.tender import DemoRefused


class Command(BaseCommand):
    help = ("Play a land-use-right listing that ends in a timed round (限时竞价) with simulated buyers, "
            "through the platform's services, on the real clock with sandbox acceleration (docs/auctions.md).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--acceleration", type=float, default=43_200.0,
                            help="legal time factor (default 43200: a legal day lasts 2 s)")
        parser.add_argument("--room-acceleration", type=float, default=10.0,
                            help="timed-round factor (default 10: the 300 s countdown lasts 30 s)")
        parser.add_argument("--seed", type=int, default=None, help="random seed of the simulated buyers")
        parser.add_argument("--buyers", type=int, default=4, choices=range(3, 6), help="buyers (3 to 5)")

    def handle(self, *args, **options) -> None:
        opts = AuctionDemoOptions(acceleration=options["acceleration"],
                                  room_acceleration=options["room_acceleration"], seed=options["seed"],
                                  buyers=options["buyers"])
        try:
            trade = DemoAuction(opts, lambda line: self.stdout.write(line)).run()
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"demo_auction: {trade.code} {trade.status} at {trade.price}; "
                                             f"/auctions/{trade.public_id}/"))
