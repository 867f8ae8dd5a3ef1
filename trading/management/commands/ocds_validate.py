"""`manage.py ocds_validate`: libcoveocds (every additional check) on a package file or on the export of
published tenders, offline (trading/ocds/validation.py; docs/ocds.md). Exit status 1 on any error or
warning."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from trading.ocds import packages
from trading.ocds.validation import ValidatorUnavailable, validate_package


class Command(BaseCommand):
    help = "Validate OCDS release/record packages offline with libcoveocds (all additional checks)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="package files (JSON); none: the export of --tender")
        parser.add_argument("--tender", action="append", default=[],
                            help="code of a published tender: validate its release and record packages")
        parser.add_argument("--allow-placeholder-prefix", action="store_true",
                            help="accept the documented placeholder ocid prefix ocds-XXXXXX")

    def handle(self, *args, **options):
        targets: list[tuple[str, dict]] = []
        for name in options["files"]:
            try:
                with open(name, encoding="utf-8") as fh:
                    targets.append((name, json.load(fh)))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{name}: {exc}") from None
        for code in options["tender"]:
            tender = packages.published_tenders().filter(code=code).first()
            if tender is None:
                raise CommandError(f"no published tender {code}")
            targets.append((f"{code} release package", packages.release_package([tender], uri=f"urn:tender:{code}")))
            targets.append((f"{code} record package", packages.record_package([tender], uri=f"urn:tender:{code}")))
        if not targets:
            raise CommandError("give package files or --tender CODE")
        failed = False
        for label, package in targets:
            try:
                result = validate_package(package, allow_placeholder_prefix=options["allow_placeholder_prefix"])
            except ValidatorUnavailable as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{label}: {len(result.errors)} errors, {len(result.warnings)} warnings")
            for line in result.problems():
                self.stdout.write(f"  {line}")
            failed |= not (result.errors == [] and result.warnings == [])
        if failed:
            raise CommandError("OCDS validation found problems")
