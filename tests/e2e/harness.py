"""The e2e harness: prerequisites (Chromium, Playwright, axe-core) and a real server.

`E2EServer` runs the platform as production does — uvicorn serving config.asgi
(HTTP and WebSocket) — in a subprocess with its own environment:

- its own var dir (secrets, media, logs, filesystem Celery broker) under a temp dir;
- its own database: a fresh SQLite file, or, when DATABASE_URL points at PostgreSQL,
  a new database `<name>_e2e_<pid>` created for the session and dropped afterwards;
- migrated, seeded with `seed_demo`, then `tests/e2e/server_setup.py` (custodian keys);
- SANDBOX_TIME_ACCELERATION (default 28800: a legal day lasts 3 s, the 20-day bidding
  period 60 s) so that later flows can reach deadlines within the run, and the same
  SANDBOX_ROOM_ACCELERATION for the opening room's and the expert calls' minutes;
- on Redis when REDIS_URL is set (channel layer, cache and Celery broker), in a database
  of its own — REDIS_URL's server, database 14, or E2E_REDIS_URL — flushed at the end so
  that no e2e task outlives the run; otherwise the embedded in-memory layer.

A Celery worker with beat (`E2EServer.start_worker`) runs only when a flow asks for it
(deadline sweeps, notifications): `celery_worker` fixture, or E2E_CELERY=1 for all.

Environment knobs: E2E_CHROMIUM (browser path), E2E_ACCELERATION, E2E_CELERY,
E2E_KEEP (keep the temp dir), E2E_ARTIFACTS (default test-artifacts/e2e).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
NODE_DIR = E2E_DIR / "node"
AXE_JS = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ROOT / "test-artifacts" / "e2e"))
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# PITFALLS.md: Playwright's own browser download fails here; Debian's Chromium, launched by path.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ACCELERATION = os.environ.get("E2E_ACCELERATION", "28800")
PLAYWRIGHT_VERSION = "1.65.2"  # keep in step with pyproject.toml [dev] and the Makefile


class Unavailable(Exception):
    """A prerequisite is missing and cannot be installed here: the suite is skipped with this reason."""


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def ensure_playwright() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise Unavailable(
            f"Playwright for Python is not installed: `make test-e2e` installs playwright=={PLAYWRIGHT_VERSION} "
            "(never `playwright install`: the suite drives Debian's Chromium)"
        ) from None


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return True  # cannot tell; screenshots may show boxes for Chinese text
    out = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, check=False).stdout
    return bool(out.strip())


def ensure_chromium() -> str:
    """Debian's Chromium (and CJK fonts), installed with apt when missing and we are root."""
    if Path(CHROMIUM).exists():
        if not _has_cjk_font() and _is_root() and shutil.which("apt-get"):
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            print("e2e: installing fonts-noto-cjk with apt-get (Chinese pages)", flush=True)
            subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
            subprocess.run(["apt-get", "install", "-y", "-qq", "fonts-noto-cjk"], check=True, env=env)
        return CHROMIUM
    if not (_is_root() and shutil.which("apt-get")):
        raise Unavailable(
            f"{CHROMIUM} is missing and apt-get cannot run here (not root): "
            "install it with `apt-get install chromium fonts-noto-cjk` or set E2E_CHROMIUM"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("e2e: installing chromium and fonts-noto-cjk with apt-get", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"], check=True, env=env)
    if not Path(CHROMIUM).exists():
        raise Unavailable(f"apt-get installed chromium but {CHROMIUM} does not exist")
    return CHROMIUM


def ensure_axe() -> Path:
    """axe-core from npm, pinned by tests/e2e/node/package-lock.json (`npm ci`)."""
    if AXE_JS.exists():
        return AXE_JS
    npm = shutil.which("npm")
    if not npm:
        raise Unavailable("npm is missing: axe-core (tests/e2e/node) cannot be installed")
    print("e2e: npm ci --prefix tests/e2e/node (axe-core)", flush=True)
    subprocess.run([npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--loglevel=error"], check=True)
    if not AXE_JS.exists():
        raise Unavailable(f"npm ci ran but {AXE_JS} does not exist")
    return AXE_JS


def free_port() -> int:
    if os.environ.get("E2E_PORT"):  # a fixed port (e.g. one of a range assigned to this run)
        return int(os.environ["E2E_PORT"])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_db(url: str, db: int) -> str:
    """`url` with its database number replaced by `db` ("" stays "")."""
    if not url:
        return ""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


class E2EServer:
    """The platform under test, on http://127.0.0.1:<port>/."""

    def __init__(self, workdir: Path | None = None) -> None:
        self.own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="ptrade-e2e-"))
        self.var_dir = self.workdir / "var"
        self.keys_dir = self.workdir / "keys"
        self.port = int(os.environ.get("E2E_PORT") or 0) or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.pg_admin_url: str | None = None
        self.pg_name: str | None = None
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / "server.log"
        self.worker_log_path = ARTIFACTS / "worker.log"
        # The bank's webhook secret (docs/deposits.md): the suite signs notifications as the bank does.
        self.bank_secret = f"e2e-bank-{secrets.token_hex(16)}"
        self.env = self._environment()

    # --- environment and database ---------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS_MODULE"))}
        tag = f"e2e{os.getpid()}"
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            PTRADE_VAR_DIR=str(self.var_dir),
            PTRADE_MEDIA_ROOT=str(self.var_dir / "media"),
            SANDBOX_TIME_ACCELERATION=ACCELERATION,
            SANDBOX_ROOM_ACCELERATION=ACCELERATION,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_CSRF_TRUSTED_ORIGINS=self.url,
            LOG_LEVEL=os.environ.get("E2E_LOG_LEVEL", "WARNING"),
            CHANNELS_PREFIX=f"ptrade-{tag}",
            CACHE_PREFIX=f"ptrade-{tag}",
            BANK_WEBHOOK_SECRET=self.bank_secret,
            # An expert's call stays open EXPERTS_CONFIRMATION_MINUTES / acceleration: at 28,800× the
            # default 15 minutes would be 31 ms, so the e2e run gives experts two real minutes to answer.
            EXPERTS_CONFIRMATION_MINUTES=str(int(float(ACCELERATION) * 2)),
            # A timed auction round counts its countdown in real seconds (tests/e2e/test_auction_room.py).
            PTRADE_AUCTION_ROOM_ACCELERATION="1",
        )
        redis_url = os.environ.get("E2E_REDIS_URL") or _redis_db(os.environ.get("REDIS_URL", ""), 14)
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.redis_url = redis_url
        env.pop("PTRADE_TESTING", None)
        env.pop("PTRADE_PRODUCTION", None)
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url.startswith(("postgres://", "postgresql://")):
            import dj_database_url

            cfg = dj_database_url.parse(database_url)
            self.pg_admin_url = database_url
            self.pg_name = f"{cfg['NAME']}_e2e_{os.getpid()}"[:63]
            base, _sep, _name = database_url.rpartition("/")
            query = ""
            if "?" in _name:
                query = "?" + _name.split("?", 1)[1]
            env["DATABASE_URL"] = f"{base}/{self.pg_name}{query}"
        else:
            env.pop("DATABASE_URL", None)
            env["SQLITE_PATH"] = str(self.var_dir / "e2e.sqlite3")
        return env

    def _pg(self, sql: str) -> None:
        import dj_database_url
        import psycopg2

        cfg = dj_database_url.parse(self.pg_admin_url)
        conn = psycopg2.connect(
            dbname=cfg["NAME"], user=cfg["USER"] or None, password=cfg["PASSWORD"] or None,
            host=cfg["HOST"] or None, port=cfg["PORT"] or None,
        )
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def _drop_pg(self) -> None:
        if not self.pg_name:
            return
        self._pg(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.pg_name}' AND pid <> pg_backend_pid()"
        )
        self._pg(f'DROP DATABASE IF EXISTS "{self.pg_name}"')

    def _flush_redis(self) -> None:
        if not self.redis_url:
            return
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            client.flushdb()
        finally:
            client.close()

    def manage(self, *args: str, timeout: int = 600) -> str:
        """Run `manage.py <args>` in the server's environment; returns stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def python(self, *args: str, timeout: int = 300) -> str:
        result = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(f"python {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    # --- lifecycle -----------------------------------------------------------------------------------

    def prepare(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._flush_redis()
        if self.pg_name:
            self._drop_pg()
            self._pg(f'CREATE DATABASE "{self.pg_name}"')
        started = time.monotonic()
        self.manage("migrate", "--noinput")
        self.manage("seed_demo")
        out = self.python("-m", "tests.e2e.server_setup", str(self.keys_dir))
        print(f"e2e: database ready in {time.monotonic() - started:.1f}s; {out.strip()}", flush=True)

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log", "--no-proxy-headers"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the e2e server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the e2e server did not answer within 60 s; see {self.log_path}")

    def start_worker(self) -> None:
        """A Celery worker with embedded beat, as `make run` starts it (idempotent)."""
        if self.worker is not None and self.worker.poll() is None:
            return
        log = self.worker_log_path.open("ab")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-l", "info", "--concurrency", "2",
             "-s", str(self.var_dir / "celerybeat-schedule")],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(
                    f"the Celery worker exited with {self.worker.returncode}; see {self.worker_log_path}"
                )
            if b"ready." in self.worker_log_path.read_bytes():
                return
            time.sleep(0.3)
        raise RuntimeError(f"the Celery worker was not ready within 60 s; see {self.worker_log_path}")

    @staticmethod
    def _stop(proc: subprocess.Popen | None) -> None:
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # a warm shutdown: the process stops its own children
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        # Whatever is left of its session (it has one of its own: start_new_session).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def stop(self) -> None:
        self._stop(self.worker)
        self._stop(self.proc)
        try:
            self._drop_pg()
            self._flush_redis()
        finally:
            if self.own_workdir and not os.environ.get("E2E_KEEP"):
                shutil.rmtree(self.workdir, ignore_errors=True)
