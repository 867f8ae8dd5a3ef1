"""`manage.py archive`: the archive of a finished tender and the retention policy (trading/retention.py).

  archive export TENDER --out FILE.zip   documents, records and the audit bundle of a finished tender
  archive policy                         the retention period of every kind of record (政府采购法 Art 42)
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from trading.models import Tender
from trading.retention import RECORD_KINDS, archive_write, retained_until


class Command(BaseCommand):
    help = "Export the archive of a finished tender, or print the retention policy."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write the archive of a finished tender (zip)")
        export.add_argument("tender", help="tender id or code")
        export.add_argument("--out", required=True, type=Path, help="zip file to write")
        sub.add_parser("policy", help="the retention period of every kind of record")

    def handle(self, *args, **options):
        if options["action"] == "policy":
            for kind in RECORD_KINDS:
                period = f"{kind.retention.describe()} from the tender's end" if kind.retention else "never deleted"
                self.stdout.write(f"{kind.key:<16} {period:<38} {kind.source}\n{'':<17}{kind.what}")
            return
        key = options["tender"]
        tender = Tender.objects.filter(pk=int(key)).first() if key.isdigit() else Tender.objects.filter(
            code=key).first()
        if tender is None:
            raise CommandError(f"no tender {key}")
        out: Path = options["out"]
        partial = out.with_name(out.name + ".partial")
        try:
            with partial.open("wb") as stream:
                manifest = archive_write(tender=tender, out=stream)
        except DomainError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(str(exc)) from None
        partial.replace(out)
        self.stdout.write(f"{tender.code}: {len(manifest['files'])} files in {out}; records kept until "
                          f"{retained_until(tender):%Y-%m-%d}")
