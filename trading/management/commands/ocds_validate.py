"""`manage.py ocds_validate`: libcoveocds (every additional check) on package files or on the open data the
platform serves — tenders, fixed-price projects, auction results and any other open data source registered
in `trading.ocds.sources` — offline (trading/ocds/validation.py; docs/ocds.md, "Validation"). Exit status
1 on any error or warning.

One option per registered source names processes by code (`--tender CODE`, `--fixed-price CODE`,
`--auction CODE`: the packages the API serves for that process); `--source KEY` validates every document
the API serves for a source (its list/bulk packages and each published process's packages); `--all`
every source."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from trading.ocds.mapping import default_context
from trading.ocds.sources import registered_sources, source_get
from trading.ocds.validation import ValidatorUnavailable, validate_package


class Command(BaseCommand):
    help = ("Validate OCDS release/record packages offline with libcoveocds (all additional checks): files, "
            "or the open data the platform serves (tenders, fixed-price projects, auction results).")

    def add_arguments(self, parser):
        keys = [s.key for s in registered_sources()]
        parser.add_argument("files", nargs="*", help="package files (JSON)")
        for source in registered_sources():
            parser.add_argument(f"--{source.key}", action="append", default=[], metavar="CODE",
                                dest=f"code_{source.key}",
                                help=f"code of a {source.noun}: validate the packages the API serves for it")
        parser.add_argument("--source", action="append", default=[], choices=keys,
                            help="validate every document the API serves for this source (lists and each process)")
        parser.add_argument("--all", action="store_true",
                            help=f"validate every document the API serves for every source ({', '.join(keys)})")
        parser.add_argument("--allow-placeholder-prefix", action="store_true",
                            help="accept the documented placeholder ocid prefix ocds-XXXXXX")

    def _targets(self, options):
        """(label, package) pairs, lazily: a source's documents are built one by one."""
        for name in options["files"]:
            try:
                with open(name, encoding="utf-8") as fh:
                    yield name, json.load(fh)
            except (OSError, ValueError) as exc:
                raise CommandError(f"{name}: {exc}") from None
        ctx = default_context()
        for source in registered_sources():
            for code in options[f"code_{source.key}"]:
                process = source.process(code)
                if process is None:
                    raise CommandError(f"no {source.noun} {code}")
                yield from source.process_packages(process, ctx)
        keys = [s.key for s in registered_sources()] if options["all"] else list(dict.fromkeys(options["source"]))
        for key in keys:
            source = source_get(key)
            count = 0
            for label, package in source.documents(ctx):
                count += 1
                yield label, package
            if count == 0:
                self.stdout.write(f"{key}: nothing published")

    def handle(self, *args, **options):
        asked = options["files"] or options["source"] or options["all"] or any(
            options[f"code_{s.key}"] for s in registered_sources())
        if not asked:
            flags = " or ".join(f"--{s.key} CODE" for s in registered_sources())
            raise CommandError(f"give package files, {flags}, --source KEY or --all")
        failed, checked = False, 0
        for label, package in self._targets(options):
            try:
                result = validate_package(package, allow_placeholder_prefix=options["allow_placeholder_prefix"])
            except ValidatorUnavailable as exc:
                raise CommandError(str(exc)) from None
            checked += 1
            self.stdout.write(f"{label}: {len(result.errors)} errors, {len(result.warnings)} warnings")
            for line in result.problems():
                self.stdout.write(f"  {line}")
            failed |= not (result.errors == [] and result.warnings == [])
        self.stdout.write(f"{checked} packages checked")
        if failed:
            raise CommandError("OCDS validation found problems")
