"""`manage.py sandbox`: the sandbox clock (trading/sandbox.py; docs/configuration.md, "Sandbox clock").

  sandbox show           the offset, the real time and the sandbox's "now", and both acceleration factors
  sandbox advance 20d    move the sandbox clock ahead (d, h, m, s; e.g. 1d12h) for web, worker and beat,
                         an audit event; then runs the due steps once (--no-sweep: leave them to beat)
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from config.errors import DomainError
from trading import clock, sandbox
from trading.rules import acceleration, room_acceleration


class Command(BaseCommand):
    help = "Show or advance the sandbox clock (never in production)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("show", help="the sandbox clock's offset and factors")
        advance = sub.add_parser("advance", help="move the sandbox clock ahead, e.g. 20d, 3h, 1d12h, 15m, 90s")
        advance.add_argument("duration")
        advance.add_argument("--no-sweep", action="store_true", help="do not run the due steps now")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("the sandbox clock does not exist in production")
        if options["action"] == "advance":
            try:
                by = sandbox.parse_duration(options["duration"])
                sandbox.sandbox_clock_advance(actor="system", by=by)
            except (ValueError, DomainError) as exc:
                raise CommandError(str(exc)) from None
            sandbox.forget()
            self.stdout.write(f"advanced by {by}")
            if not options["no_sweep"]:
                from trading.tasks import sweep_due_steps

                self.stdout.write(f"due steps run: {sweep_due_steps()}")
        self.show()

    def show(self) -> None:
        if not sandbox.enabled():
            self.stdout.write("sandbox clock: off (SANDBOX_CLOCK=0)")
        self.stdout.write(f"offset           {sandbox.offset()}")
        self.stdout.write(f"real time        {timezone.localtime():%Y-%m-%d %H:%M:%S %Z}")
        self.stdout.write(f"sandbox now      {timezone.localtime(clock.now()):%Y-%m-%d %H:%M:%S %Z}")
        self.stdout.write(f"legal factor     {acceleration():g} (SANDBOX_TIME_ACCELERATION)")
        self.stdout.write(f"room factor      {room_acceleration():g} (SANDBOX_ROOM_ACCELERATION)")
