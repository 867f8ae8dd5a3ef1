"""`manage.py db_roles <subcommand>`: the owner / runtime role split on PostgreSQL (audit/db_roles.py).

  setup   as an administrator (DATABASE_URL = a role that may create roles): create the owner
          and runtime roles, give the database and its objects to the owner. The roles come
          from --owner-url / --runtime-url (or DATABASE_OWNER_URL / PTRADE_DB_RUNTIME_URL);
          without them, roles ptrade_owner and ptrade_app with passwords generated once into
          $PTRADE_VAR_DIR/db_roles.json (mode 0600). --print-env prints the shell exports of
          DATABASE_OWNER_URL and DATABASE_URL (runtime) for bin/entrypoint.
  grant   as the owner (run after every migrate): reset the runtime role's privileges.
  check   list what makes the runtime role more than a runtime role; exit 1 if anything.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit.db_roles import RoleError, RoleSpec, roles_setup, runtime_grant, runtime_problems


def _role_url(admin_url: str, spec: RoleSpec) -> str:
    parts = urlsplit(admin_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = quote(spec.name, safe="")
    if spec.password:
        netloc += ":" + quote(spec.password, safe="")
    netloc += "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _generated_specs() -> tuple[RoleSpec, RoleSpec]:
    store = Path(settings.VAR_DIR) / "db_roles.json"
    if store.exists():
        saved = json.loads(store.read_text(encoding="utf-8"))
    else:
        saved = {"owner": {"name": os.environ.get("PTRADE_DB_OWNER_ROLE", "ptrade_owner"),
                           "password": secrets.token_urlsafe(24)},
                 "runtime": {"name": os.environ.get("PTRADE_DB_RUNTIME_ROLE", "ptrade_app"),
                             "password": secrets.token_urlsafe(24)}}
        store.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(saved, out)
    return RoleSpec(**saved["owner"]), RoleSpec(**saved["runtime"])


class Command(BaseCommand):
    help = "PostgreSQL owner/runtime roles: setup, grant, check."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        setup = sub.add_parser("setup", help="create the owner and runtime roles (as an administrator)")
        setup.add_argument("--owner-url", default=os.environ.get("DATABASE_OWNER_URL", ""))
        setup.add_argument("--runtime-url", default=os.environ.get("PTRADE_DB_RUNTIME_URL", ""))
        setup.add_argument("--print-env", action="store_true",
                           help="print `export DATABASE_OWNER_URL=... DATABASE_URL=...` for a shell")
        grant = sub.add_parser("grant", help="reset the runtime role's privileges (as the owner)")
        check = sub.add_parser("check", help="check the runtime role")
        for command in (grant, check):
            who = command.add_mutually_exclusive_group(required=True)
            who.add_argument("--runtime-url", help="the runtime role's database URL (its user is taken)")
            who.add_argument("--runtime-role", help="the runtime role's name")

    def handle(self, *args, **options):
        try:
            return getattr(self, f"handle_{options['subcommand']}")(**options)
        except RoleError as exc:
            raise CommandError(str(exc)) from exc

    def handle_setup(self, **options) -> None:
        admin_url = os.environ.get("DATABASE_URL", "")
        if options["owner_url"] and options["runtime_url"]:
            owner, runtime = RoleSpec.from_url(options["owner_url"]), RoleSpec.from_url(options["runtime_url"])
            owner_url, runtime_url = options["owner_url"], options["runtime_url"]
        elif options["owner_url"] or options["runtime_url"]:
            raise CommandError("give both --owner-url and --runtime-url, or neither")
        else:
            owner, runtime = _generated_specs()
            owner_url, runtime_url = _role_url(admin_url, owner), _role_url(admin_url, runtime)
        done = roles_setup(connection, owner=owner, runtime=runtime)
        if options["print_env"]:
            self.stdout.write(f"export DATABASE_OWNER_URL={shlex.quote(owner_url)}")
            self.stdout.write(f"export DATABASE_URL={shlex.quote(runtime_url)}")
        else:
            for line in done:
                self.stdout.write(line)

    @staticmethod
    def _runtime(options) -> str:
        return options["runtime_role"] or RoleSpec.from_url(options["runtime_url"]).name

    def handle_grant(self, **options) -> None:
        result = runtime_grant(connection, runtime=self._runtime(options))
        self.stdout.write(f"runtime role {self._runtime(options)}: SELECT, INSERT on "
                          f"{', '.join(result['append_only'])}; SELECT on {', '.join(result['read_only'])}; "
                          f"SELECT, INSERT, UPDATE, DELETE on {len(result['read_write'])} other tables")

    def handle_check(self, **options) -> None:
        problems = runtime_problems(connection, runtime=self._runtime(options))
        if problems:
            raise CommandError(f"runtime role {self._runtime(options)}: " + "; ".join(problems))
        self.stdout.write(f"runtime role {self._runtime(options)} OK")
