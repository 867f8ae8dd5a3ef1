"""Set up Django on a dedicated, freshly migrated benchmark database.

PostgreSQL when DATABASE_URL is set (a database `<name>_bench` is created next to
it and dropped first), otherwise a temporary SQLite file. Never touches the
database named in DATABASE_URL itself.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(name: str = "bench") -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        import psycopg2
        from dj_database_url import parse

        cfg = parse(url)
        bench_db = f"{cfg['NAME']}_{name}"
        conn = psycopg2.connect(dbname=cfg["NAME"], user=cfg["USER"], password=cfg["PASSWORD"] or None,
                                host=cfg["HOST"] or None, port=cfg["PORT"] or None)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
            cur.execute(f'CREATE DATABASE "{bench_db}"')
        conn.close()
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + bench_db
        kind = "PostgreSQL"
    else:
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / f"{name}.sqlite3")
        kind = "SQLite"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("PTRADE_VAR_DIR", tempfile.mkdtemp(prefix="ptrade-bench-"))
    # A fresh database needs a fresh signed-checkpoint journal (audit.checkpoints.journal_path).
    os.environ["PTRADE_CHECKPOINT_JOURNAL"] = str(Path(tempfile.mkdtemp(prefix="ptrade-bench-")) / "checkpoints.jsonl")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return kind


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
