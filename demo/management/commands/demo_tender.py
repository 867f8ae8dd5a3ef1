"""`manage.py demo_tender`: one realistic tender from notice to contract in a few minutes of accelerated
sandbox time, played by simulated bidders and experts (demo/tender.py, docs/demo_tender.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from demo.tender import (
    DEFAULT_ACCELERATION,
    DEFAULT_PACE,
    DEFAULT_ROOM_ACCELERATION,
    FAST,
    DemoOptions,
    DemoRefused,
    default_base_url,
    demo_tender_run,
    refuse_in_production,
)


class Command(BaseCommand):
    help = ("Play a complete tender (notice → sealed bids → opening → experts → award → contract) with "
            "accelerated sandbox time, through the real services; watch it live next to `make run`.")

    def add_arguments(self, parser):
        parser.add_argument("--acceleration", type=float, default=None,
                            help=f"legal-time factor (default {DEFAULT_ACCELERATION:g}: a legal day lasts "
                                 f"{86400 / DEFAULT_ACCELERATION:g} s, the 20-day bidding period "
                                 f"{20 * 86400 / DEFAULT_ACCELERATION:g} s)")
        parser.add_argument("--room-acceleration", type=float, default=None,
                            help=f"factor for the opening room and the experts' calls, whose timings are in "
                                 f"minutes (default {DEFAULT_ROOM_ACCELERATION:g}: a minute lasts "
                                 f"{60 / DEFAULT_ROOM_ACCELERATION:g} s)")
        parser.add_argument("--bidders", type=int, default=4,
                            help="simulated bidders, 3 to 5 (bidder1 …); with 4 or more the last one's deposit "
                                 "arrives short (default 4)")
        parser.add_argument("--pace", type=float, default=None,
                            help=f"real seconds between people's actions in the room and the evaluation "
                                 f"(default {DEFAULT_PACE:g})")
        parser.add_argument("--fast", action="store_true",
                            help="maximal useful acceleration and no pauses (tests, smoke runs: ~15 s)")
        parser.add_argument("--base-url", default=None,
                            help=f"host of the printed URLs, where `make run` serves (default "
                                 f"http://127.0.0.1:$PORT, 8000 when PORT is unset: here {default_base_url()})")
        parser.add_argument("--seed", type=int, default=None, help="random seed for prices and scores")
        parser.add_argument("--keys-dir", type=Path, default=None,
                            help="where new custodian key files go (default var/demo_tender/keys)")

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()  # progress is watched live, also through a pipe

    def handle(self, *args, **options):
        try:
            refuse_in_production()
            demo = DemoOptions(bidders=options["bidders"], base_url=options["base_url"] or default_base_url(),
                               seed=options["seed"],
                               keys_dir=options["keys_dir"])
            if options["fast"]:
                demo.acceleration = FAST["acceleration"]
                demo.room_acceleration = FAST["room_acceleration"]
                demo.pace = FAST["pace"]
            for name in ("acceleration", "room_acceleration", "pace"):
                if options[name] is not None:
                    setattr(demo, name, options[name])
            result = demo_tender_run(demo, self.say)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"{result.code}: {result.status}, won by {result.winner}, in {result.seconds:.0f} s"))
