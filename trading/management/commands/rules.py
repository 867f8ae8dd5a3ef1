"""`manage.py rules`: every legal number of the platform with its source (trading.rules.rules_registry)."""

from __future__ import annotations

import json
from dataclasses import asdict

from django.core.management.base import BaseCommand

from trading.rules import RULE_MODULES, rules_registry


class Command(BaseCommand):
    help = "List every legal number and legal source the platform applies, wherever the constant lives."

    def add_arguments(self, parser):
        parser.add_argument("--json", dest="as_json", action="store_true", help="one JSON array")
        parser.add_argument("--search", default="", help="only entries whose key, source or comment contain this")

    def handle(self, *args, **options):
        needle = options["search"].lower()
        entries = [e for e in rules_registry()
                   if not needle or needle in f"{e.key} {e.source} {e.comment}".lower()]
        if options["as_json"]:
            self.stdout.write(json.dumps([asdict(e) for e in entries], ensure_ascii=False, indent=1))
            return
        self.stdout.write(f"{len(entries)} rules from {', '.join(RULE_MODULES)}")
        module = None
        for entry in entries:
            if entry.module != module:
                module = entry.module
                self.stdout.write(f"\n[{module}]")
            value = entry.value or "—"
            comment = f"  ({entry.comment})" if entry.comment else ""
            self.stdout.write(f"  {entry.key:<58} {value:<18} {entry.source}{comment}")
