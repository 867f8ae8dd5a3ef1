"""`manage.py audit <subcommand>`: operations on the audit log.

  verify   re-hash the whole chain (streaming) and report the first broken seq
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.selectors import chain_verify


class Command(BaseCommand):
    help = "Audit log operations: verify."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="re-hash the chain and report the first broken seq")
        verify.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")

    def handle(self, *args, **options):
        return getattr(self, f"handle_{options['subcommand'].replace('-', '_')}")(**options)

    def handle_verify(self, **options) -> None:
        total = AuditEvent.objects.count()
        started = time.monotonic()
        show = sys.stderr.isatty() and not options["no_progress"]

        def progress(done: int) -> None:
            if not show:
                return
            width = 30
            filled = int(width * done / total) if total else width
            rate = done / max(time.monotonic() - started, 1e-9)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} events {rate:,.0f}/s")
            sys.stderr.flush()

        report = chain_verify(progress=progress)
        if show:
            sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        if not report.ok:
            raise CommandError(
                f"audit chain BROKEN at seq {report.first_broken_seq}: {report.problem} "
                f"({report.checked} events verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(
            f"audit chain OK: {report.checked} events, head seq {report.head_seq}, "
            f"head hash {report.head_hash} ({elapsed:.2f} s)"
        ))
