"""The fault-test stack: its own PostgreSQL and Redis, the web (uvicorn) and a Celery worker
with beat, all in a temporary directory on loopback ports of their own (docs/operations.md,
"Faults and recovery"), started and stopped by the tests.

- PostgreSQL 15 (`PG_BIN`, default /usr/lib/postgresql/15/bin): `initdb` as the `postgres`
  system user when the tests run as root (PostgreSQL refuses root), trust auth, port
  `FAULTS_PG_PORT` (18832); database `ptrade`.
- Redis (`redis-server` on PATH), port `FAULTS_REDIS_PORT` (18879), append-only file on (as
  in docker-compose.yml), so that a restart keeps the broker's queues.
- web: `uvicorn config.asgi:application` on `FAULTS_WEB_PORT` (18880); worker: `celery worker
  -B` as `make run` starts it, with 2-second heartbeats.

Every process runs with `DJANGO_SETTINGS_MODULE=config.settings` and this stack's
DATABASE_URL/REDIS_URL/PTRADE_VAR_DIR; the test process itself only drives them (HTTP,
WebSocket, `python` scripts in the stack's environment).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
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
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "18832"))
REDIS_PORT = int(os.environ.get("FAULTS_REDIS_PORT", "18879"))
WEB_PORT = int(os.environ.get("FAULTS_WEB_PORT", "18880"))
BANK_SECRET = "faults-bank-secret"  # noqa: S105 - the stack's own bank simulator secret


class Unavailable(Exception):
    pass


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} within {timeout} s")


class Stack:
    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise Unavailable(f"PostgreSQL binaries not found in {PG_BIN} (set PG_BIN)")
        if shutil.which("redis-server") is None:
            raise Unavailable("redis-server is not on PATH")
        for port in (PG_PORT, REDIS_PORT, WEB_PORT):
            if _port_open(port):
                raise Unavailable(f"port {port} is in use")
        self.dir = Path(tempfile.mkdtemp(prefix="ptrade-faults-"))
        self.var = self.dir / "var"
        self.var.mkdir()
        self.pg_data = self.dir / "pg"
        self.redis_dir = self.dir / "redis"
        self.redis_dir.mkdir()
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.redis: subprocess.Popen | None = None
        self.pg_user = None
        if os.geteuid() == 0:
            self.pg_user = pwd.getpwnam(os.environ.get("FAULTS_PG_USER", "postgres"))
        self.env = self._environment()

    # --- environment ---------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTEST", "DJANGO_SETTINGS_MODULE", "PTRADE_", "DATABASE_URL", "REDIS_URL"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{PG_PORT}/ptrade",
            REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
            PTRADE_VAR_DIR=str(self.var),
            PTRADE_MEDIA_ROOT=str(self.var / "media"),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            LOG_LEVEL="WARNING",
            PTRADE_WORKER_HEARTBEAT_SECONDS="2",
            PTRADE_WORKER_STALE_SECONDS="10",
            BANK_WEBHOOK_SECRET=BANK_SECRET,
        )
        return env

    # --- PostgreSQL ----------------------------------------------------------------------------
    def _as_pg(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        def demote():  # pragma: no cover - runs in the child
            if self.pg_user is not None:
                os.setgid(self.pg_user.pw_gid)
                os.setuid(self.pg_user.pw_uid)

        return subprocess.run(args, preexec_fn=demote, capture_output=True, text=True, check=False, **kw)  # noqa: PLW1509

    def pg_init(self) -> None:
        self.pg_data.mkdir()
        if self.pg_user is not None:
            for path in (self.pg_data, self.logs):
                os.chown(path, self.pg_user.pw_uid, self.pg_user.pw_gid)
            os.chmod(self.dir, 0o755)
        result = self._as_pg([str(PG_BIN / "initdb"), "-D", str(self.pg_data), "-U", "postgres", "-A", "trust",
                              "--no-sync", "-E", "UTF8"])
        if result.returncode:
            raise RuntimeError(f"initdb failed: {result.stderr}")
        self.pg_start()
        self.psql("CREATE DATABASE ptrade")

    def pg_start(self) -> None:
        opts = f"-p {PG_PORT} -k {self.pg_data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        result = self._as_pg([str(PG_BIN / "pg_ctl"), "-D", str(self.pg_data), "-o", opts, "-l",
                              str(self.logs / "postgres.log"), "-w", "-t", "60", "start"])
        if result.returncode:
            raise RuntimeError(f"pg_ctl start failed: {result.stdout}{result.stderr}")

    def pg_stop(self, mode: str = "fast") -> None:
        self._as_pg([str(PG_BIN / "pg_ctl"), "-D", str(self.pg_data), "-m", mode, "-w", "-t", "60", "stop"])

    def pg_restart(self, mode: str = "immediate", down_seconds: float = 0.0) -> None:
        self.pg_stop(mode)
        time.sleep(down_seconds)
        self.pg_start()

    def psql(self, sql: str, db: str = "postgres") -> str:
        result = subprocess.run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres",
                                 "-d", db, "-At", "-c", sql], capture_output=True, text=True, check=False)
        if result.returncode:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout.strip()

    # --- Redis ---------------------------------------------------------------------------------
    def redis_start(self) -> None:
        log = (self.logs / "redis.log").open("ab")
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--dir", str(self.redis_dir),
             "--appendonly", "yes", "--save", ""],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait(lambda: _port_open(REDIS_PORT), 20, "Redis did not listen")

    def redis_kill(self) -> None:
        """Redis dies (SIGKILL): every client connection drops at once."""
        if self.redis is not None and self.redis.poll() is None:
            self.redis.kill()
            self.redis.wait(10)
        _wait(lambda: not _port_open(REDIS_PORT), 10, "Redis still listening")

    # --- the platform --------------------------------------------------------------------------
    def python(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        result = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if check and result.returncode:
            raise RuntimeError(f"python {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def script(self, name: str, *args: str, timeout: float = 300) -> dict:
        """Run tests/faults/scripts.py <name> in the stack's environment; returns its JSON answer."""
        out = self.python(str(ROOT / "tests" / "faults" / "scripts.py"), name, *args, timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])

    def migrate(self) -> None:
        self.python("manage.py", "migrate", "--noinput", timeout=600)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{WEB_PORT}"

    def web_start(self) -> None:
        log = (self.logs / "web.log").open("ab")
        self.web = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port",
             str(WEB_PORT), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def up() -> bool:
            if self.web.poll() is not None:
                raise RuntimeError(f"the web exited with {self.web.returncode}; see {self.logs / 'web.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2) as response:  # noqa: S310
                    return response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        _wait(up, 90, "the web did not answer", interval=0.3)

    def worker_start(self) -> None:
        self.worker_log = self.logs / "worker.log"
        log = self.worker_log.open("ab")
        start = self.worker_log.stat().st_size
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-l", "info", "--concurrency", "2",
             "-s", str(self.var / "celerybeat-schedule")],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def ready() -> bool:
            if self.worker.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.worker.returncode}; see {self.worker_log}")
            return b"ready." in self.worker_log.read_bytes()[start:]

        _wait(ready, 90, "the worker was not ready", interval=0.3)

    def worker_kill(self) -> None:
        """kill -9 the worker's whole process group (main process, pool children, embedded beat)."""
        if self.worker is not None and self.worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(20)

    @staticmethod
    def _stop(proc: subprocess.Popen | None) -> None:
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def close(self) -> None:
        self._stop(self.worker)
        self._stop(self.web)
        self._stop(self.redis)
        if self.pg_data.exists():
            self.pg_stop("immediate")
        if not os.environ.get("FAULTS_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
