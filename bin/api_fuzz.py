#!/usr/bin/env python3
"""Fuzz the API against its own OpenAPI document with schemathesis (docs/api.md, "Fuzzing").

`make test-api` runs it (`.venv/bin/python bin/api_fuzz.py`) (and .ci/run after `make test`). It
  1. creates a throw-away database (on the PostgreSQL server of DATABASE_URL, else SQLite),
     migrates it, seeds the demo accounts and expert pool (`seed_demo`) and plays one whole
     tender (`demo_tender --fast`) so that lists, records and PDFs have content;
  2. serves the ASGI app with uvicorn on 127.0.0.1 (API_FUZZ_PORT, default: a free port),
     without Redis (in-memory channel layer, file-system Celery broker in a temporary dir);
  3. gets tokens for bidder1, agent1 and supervisor1 through POST /api/v1/auth/token;
  4. runs `st run` once per identity (anonymous, bidder, agent, supervisor) with the checks
     not_a_server_error, response_schema_conformance, status_code_conformance and
     content_type_conformance, `--max-examples` API_FUZZ_EXAMPLES (default 6) and a fixed
     `--seed` (API_FUZZ_SEED, default 1) so that CI is reproducible;
  5. stops the server and drops the database. Exit status 1 if any run found a failure.
The server's log goes to var/api-fuzz/server.log, JUnit reports to var/api-fuzz/<identity>.xml.

Options: API_FUZZ_IDENTITIES=anonymous,bidder (a subset), API_FUZZ_PHASES (default
examples,fuzzing), API_FUZZ_EXTRA="--include-path-regex ^/api/v1/draws" (passed to st).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
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
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
ST = str(Path(PY).parent / "st")
USERS = {"bidder": "bidder1", "agent": "agent1", "supervisor": "supervisor1"}
DEMO_PASSWORD = "ptrade-demo-2026"  # noqa: S105 - demo/accounts.py, the published demo password
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def log(line: str) -> None:
    print(f"api-fuzz: {line}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_database(tmp: Path) -> tuple[str, callable]:
    """(DATABASE_URL of a new empty database, a function that drops it)."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp / 'fuzz.sqlite3'}", lambda: None
    import psycopg2

    name = f"ptrade_apifuzz_{os.getpid()}"
    url = urlparse(base)
    admin = psycopg2.connect(base)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()

    return urlunparse(url._replace(path=f"/{name}")), drop


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - http://127.0.0.1 only
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # run the clean-up (server, database) in main's `finally`


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="ptrade-apifuzz-"))
    database_url, drop_database = make_database(tmp)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_DEBUG", "PTRADE_PRODUCTION")}
    env.update(DATABASE_URL=database_url, PTRADE_VAR_DIR=str(tmp / "var"), DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
               DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", PYTHONUNBUFFERED="1",
               # the test settings: MD5 password hashing (seed_demo's 70 accounts in seconds, not a minute),
               # Celery tasks run eagerly in the request (no worker or broker needed), English messages
               DJANGO_SETTINGS_MODULE="config.settings_test")
    port = int(os.environ.get("API_FUZZ_PORT") or free_port())
    base = f"http://127.0.0.1:{port}"
    server = None
    failed = []
    try:
        manage = [PY, str(ROOT / "manage.py")]
        log(f"database {urlparse(database_url).path.lstrip('/')}: migrate, seed_demo, demo_tender --fast")
        for step in (["migrate", "--noinput", "-v", "0"], ["seed_demo"],
                     ["demo_tender", "--fast", "--seed", "1", "--base-url", base]):
            t0 = time.monotonic()
            subprocess.run([*manage, *step], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
            log(f"  {step[0]}: {time.monotonic() - t0:.0f} s")
        log(f"seeded in {time.monotonic() - started:.0f} s; serving {base}")
        reports = ROOT / "var" / "api-fuzz"
        reports.mkdir(parents=True, exist_ok=True)
        server_log = (reports / "server.log").open("w")
        server = subprocess.Popen(  # noqa: S603
            [PY, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--lifespan", "off", "--log-level", "warning", "--no-access-log"],
            env=env, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT)
        for _ in range(120):
            try:
                if http("GET", f"{base}/api/v1/audit/public-key")[0] < 500:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the server did not start")
        headers: dict[str, list[str]] = {"anonymous": []}
        for identity, username in USERS.items():
            code, body = http("POST", f"{base}/api/v1/auth/token",
                              {"username": username, "password": DEMO_PASSWORD})
            if code != 200 or not body.get("token"):
                raise RuntimeError(f"no token for {username}: {code} {body}")
            headers[identity] = ["-H", f"Authorization: Token {body['token']}"]
        # The document once, with a generous timeout (generating it takes seconds on a busy machine).
        with urllib.request.urlopen(f"{base}/api/schema/?format=json", timeout=300) as response:  # noqa: S310
            schema_file = tmp / "openapi.json"
            schema_file.write_bytes(response.read())
        wanted = [i for i in os.environ.get("API_FUZZ_IDENTITIES", "anonymous,bidder,agent,supervisor").split(",") if i]
        examples = os.environ.get("API_FUZZ_EXAMPLES", "6")
        seed = os.environ.get("API_FUZZ_SEED", "1")
        phases = os.environ.get("API_FUZZ_PHASES", "examples,fuzzing")
        extra = shlex.split(os.environ.get("API_FUZZ_EXTRA", ""))
        for identity in wanted:
            t0 = time.monotonic()
            command = [ST, "run", str(schema_file), "--url", base, "--checks", CHECKS, "--max-examples", examples,
                       "--seed", seed, "--phases", phases, "--workers", os.environ.get("API_FUZZ_WORKERS", "2"),
                       "--generation-database", "none", "--request-timeout", "30", "--no-color",
                       "--report", "junit", "--report-junit-path", str(reports / f"{identity}.xml"),
                       *headers[identity], *extra]
            log(f"{identity}: st run (max-examples {examples}, seed {seed}, phases {phases})")
            rc = subprocess.run(command, cwd=tmp).returncode  # noqa: S603 - cwd: its .schemathesis/ store
            log(f"{identity}: exit {rc} in {time.monotonic() - t0:.0f} s")
            if rc != 0:
                failed.append(identity)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        drop_database()
        shutil.rmtree(tmp, ignore_errors=True)
    outcome = f"FAILED for {', '.join(failed)}" if failed else "no failures"
    log(f"total {time.monotonic() - started:.0f} s; {outcome}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
