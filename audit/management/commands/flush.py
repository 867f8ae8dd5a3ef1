"""`flush` that can purge the append-only audit table when settings allow it.

Django's TransactionTestCase flushes the database after each test; in tests
(`AUDIT_ALLOW_FLUSH`) the audit guard lets that purge through. Elsewhere flush
stays refused by the triggers, as it should.
"""

from django.conf import settings
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from audit.guard import maintenance


class Command(FlushCommand):
    def handle(self, **options):
        if not getattr(settings, "AUDIT_ALLOW_FLUSH", False):
            return super().handle(**options)
        with maintenance(connections[options["database"]]):
            return super().handle(**options)
