"""PostgreSQL privilege separation: an owner role and a runtime role (docs/audit.md).

- The **owner** role owns the schema objects and runs `manage.py migrate`
  (`DATABASE_OWNER_URL`). It is not a superuser.
- The **runtime** role is what web, worker and beat connect as (`DATABASE_URL`). It owns
  nothing; on the append-only tables (every table with a `*_refuse_change` trigger:
  audit events, checkpoints, Merkle nodes, deposit ledger entries) it holds SELECT and
  INSERT only, elsewhere SELECT/INSERT/UPDATE/DELETE (SELECT only on `django_migrations`);
  no TRUNCATE, REFERENCES or TRIGGER anywhere. Without ownership it cannot
  `ALTER TABLE ... DISABLE TRIGGER`; without superuser it cannot
  `SET session_replication_role`; and no trigger reads any setting it could change.

`roles_setup` (run once by whoever may create roles: `manage.py db_roles setup`) creates
both roles and hands the database and every object in its schema to the owner.
`runtime_grant` (run as the owner after every migrate: `manage.py db_roles grant`) resets
the runtime role's table privileges to the rule above. `runtime_problems` lists what is
wrong with a runtime role (superuser, owns objects, may update an append-only table...).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from audit.guard import guarded_tables

APPEND_ONLY_PRIVILEGES = "SELECT, INSERT"
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
READ_ONLY_TABLES = ("django_migrations",)
_ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"


class RoleError(RuntimeError):
    """The roles cannot be set up or granted as asked."""


@dataclass(frozen=True)
class RoleSpec:
    name: str
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> RoleSpec:
        parts = urlsplit(url)
        if not parts.username:
            raise RoleError(f"the database URL {parts.scheme}://{parts.hostname}/... names no user")
        return cls(unquote(parts.username), unquote(parts.password or ""))


def _q(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def _require_postgres(connection) -> None:
    if connection.vendor != "postgresql":
        raise RoleError("database roles exist on PostgreSQL only (SQLite has none; see docs/audit.md)")


def roles_setup(connection, *, owner: RoleSpec, runtime: RoleSpec) -> list[str]:
    """Create (or update) the owner and runtime roles and make the owner own the current
    database and every table, sequence, view and function in its schema. Needs a role
    that may create roles and change owners (a superuser). Returns what it did."""
    _require_postgres(connection)
    if owner.name == runtime.name:
        raise RoleError("the owner and the runtime role must be different roles")
    done: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_schema()")
        admin, database, schema = cursor.fetchone()
        if admin in (owner.name, runtime.name):
            raise RoleError("run the setup as an administrator role, not as the owner or runtime role")
        for spec in (owner, runtime):
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [spec.name])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            password = " PASSWORD %s" if spec.password else ""
            cursor.execute(f"{verb} ROLE {_q(connection, spec.name)} {_ROLE_ATTRIBUTES}{password}",
                           [spec.password] if spec.password else None)
            done.append(f"{verb.lower()}d role {spec.name}")
        o, r = _q(connection, owner.name), _q(connection, runtime.name)
        cursor.execute(f"ALTER DATABASE {_q(connection, database)} OWNER TO {o}")
        cursor.execute(f"ALTER SCHEMA {_q(connection, schema)} OWNER TO {o}")
        cursor.execute(f"REVOKE CREATE ON SCHEMA {_q(connection, schema)} FROM PUBLIC")
        cursor.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {_q(connection, database)} TO {r}")
        # Every object of the schema goes to the owner, whoever made it (an older install
        # migrated as the app's role or as a superuser).
        cursor.execute(
            "SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND pg_get_userbyid(c.relowner) <> %s "
            # sequences owned by a table column follow their table
            "AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
            "AND d.deptype IN ('a', 'i')))", [schema, owner.name])
        kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE",
                 "f": "FOREIGN TABLE"}
        moved = 0
        for kind, name in cursor.fetchall():
            cursor.execute(f"ALTER {kinds[kind]} {_q(connection, schema)}.{_q(connection, name)} OWNER TO {o}")
            moved += 1
        cursor.execute("SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
                       "ON n.oid = p.pronamespace WHERE n.nspname = %s AND pg_get_userbyid(p.proowner) <> %s",
                       [schema, owner.name])
        for (signature,) in cursor.fetchall():
            cursor.execute(f"ALTER FUNCTION {signature} OWNER TO {o}")
            moved += 1
        done.append(f"{owner.name} owns database {database}, schema {schema} and {moved} more objects")
    return done


def runtime_grant(connection, *, runtime: str) -> dict[str, list[str]]:
    """As the owner: reset the runtime role's privileges on every table and sequence of the
    schema (see the module docstring). Returns {"append_only": [...], "read_only": [...],
    "read_write": [...]} table names."""
    _require_postgres(connection)
    problems = _role_attribute_problems(connection, runtime)
    if problems:
        raise RoleError(f"refusing to grant to {runtime}: " + "; ".join(problems))
    append_only = set(guarded_tables(connection))
    result: dict[str, list[str]] = {"append_only": [], "read_only": [], "read_write": []}
    r = _q(connection, runtime)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        me, schema = cursor.fetchone()
        if me == runtime:
            raise RoleError("run the grant as the owner role (DATABASE_OWNER_URL), not as the runtime role")
        s = _q(connection, schema)
        cursor.execute(f"GRANT USAGE ON SCHEMA {s} TO {r}")
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}")
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema])
        for (table,) in cursor.fetchall():
            if table in append_only:
                privileges, bucket = APPEND_ONLY_PRIVILEGES, "append_only"
            elif table in READ_ONLY_TABLES:
                privileges, bucket = "SELECT", "read_only"
            else:
                privileges, bucket = TABLE_PRIVILEGES, "read_write"
            cursor.execute(f"GRANT {privileges} ON TABLE {s}.{_q(connection, table)} TO {r}")
            result[bucket].append(table)
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}")
    return result


def _role_attribute_problems(connection, role: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls, rolcreaterole, rolreplication FROM pg_roles "
                       "WHERE rolname = %s", [role])
        row = cursor.fetchone()
    if row is None:
        return [f"role {role} does not exist (run `manage.py db_roles setup`)"]
    names = ("is a superuser", "bypasses row security", "may create roles", "is a replication role")
    return [name for flag, name in zip(row, names, strict=True) if flag]


def runtime_problems(connection, *, runtime: str) -> list[str]:
    """What makes `runtime` more than a runtime role; empty when it is fine."""
    _require_postgres(connection)
    problems = _role_attribute_problems(connection, runtime)
    if problems and problems[0].endswith("setup`)"):
        return problems
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles "
                       "WHERE rolname = %s)", [runtime])
        owned = cursor.fetchone()[0]
        if owned:
            problems.append(f"owns {owned} tables or other relations")
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                       "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s)", [runtime])
        if cursor.fetchone()[0]:
            problems.append("is a member of other roles")
        for table in guarded_tables(connection):
            for privilege in ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER"):
                cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [runtime, table, privilege])
                if cursor.fetchone()[0]:
                    problems.append(f"has {privilege} on append-only table {table}")
    return problems
