"""`flush` that can purge the append-only tables in tests.

Django's TransactionTestCase flushes the database after each test. With `AUDIT_ALLOW_FLUSH`
(tests) the command lifts the append-only triggers by DDL for the purge
(`audit.guard.suspended`): only the tables' owner can do that, so the runtime role cannot
flush even with the setting on. Elsewhere flush stays refused by the triggers.
"""

from django.conf import settings
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from audit.guard import suspended


class Command(FlushCommand):
    def handle(self, **options):
        if not getattr(settings, "AUDIT_ALLOW_FLUSH", False):
            return super().handle(**options)
        with suspended(connections[options["database"]]):
            return super().handle(**options)
