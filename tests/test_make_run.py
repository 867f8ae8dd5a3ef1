"""`make run` (bin/entrypoint local) starts without warning lines and stops cleanly (issue 16).

The entrypoint runs on its embedded defaults (SQLite, file-system broker, in-memory channel layer)
in a fresh PTRADE_VAR_DIR, with free ports for the web server and the local witness. Each round
starts it in its own session, waits until uvicorn serves and the Celery worker is ready, sends
SIGINT to the whole process group (what Ctrl-C in a terminal does) and requires: exit status 0,
no process of the run left (found by its PTRADE_VAR_DIR in /proc/*/environ: the worker and beat
run in sessions of their own), no forced KILL. Ten rounds in a row, then one with SIGTERM.
The first round migrates and seeds; the later ones skip the seed (PTRADE_SEED_DEMO=0).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # `make test-slow` (CI): 11 min on a busy 2-core machine, mostly the first migrate

ROUNDS = 10
FIRST_START_TIMEOUT = 600.0  # a fresh SQLite database: every migration, then seed_demo
START_TIMEOUT = 180.0
STOP_TIMEOUT = 40.0
# Lines that are warnings whatever their source (Python warnings, logging WARNING, uvicorn's notes).
WARNING = re.compile(r"warning|No hostname was supplied|lifespan|superuser privileges", re.IGNORECASE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(var: Path) -> list[str]:
    """Every live process started for this run, in any session (the worker and beat have their own):
    those whose environment holds this run's PTRADE_VAR_DIR. Zombies are dead already."""
    marker = f"PTRADE_VAR_DIR={var}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name} {command[:100]}")
        except OSError:
            continue
    return found


def _wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen, output: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"entrypoint exited ({proc.returncode}) before {what}:\n{output.read_text()[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}:\n{output.read_text()[-3000:]}")


def _round(tmp_path: Path, index: int, sig: int, env: dict) -> str:
    start_timeout = FIRST_START_TIMEOUT if index == 0 else START_TIMEOUT
    output = tmp_path / f"run-{index}.out"
    var = Path(env["PTRADE_VAR_DIR"])
    celery_log = var / "log" / "celery.log"
    ready_before = celery_log.read_text().count(" ready.") if celery_log.exists() else 0
    with output.open("wb") as sink:
        proc = subprocess.Popen([str(ROOT / "bin" / "entrypoint"), "local"], cwd=ROOT, env=env, stdout=sink,  # noqa: S603
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(lambda: "Uvicorn running on" in output.read_text(), start_timeout, "uvicorn", proc, output)
        _wait_for(lambda: celery_log.exists() and celery_log.read_text().count(" ready.") > ready_before,
                  START_TIMEOUT, "the Celery worker", proc, output)
        os.killpg(proc.pid, sig)
        try:
            status = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"round {index}: still running {STOP_TIMEOUT} s after the signal:\n"
                        f"{output.read_text()[-3000:]}\n{_alive(var)}")
        text = output.read_text()
        logs = "".join(f"\n--- {log.name} ---\n" + log.read_text()[-4000:]
                       for log in sorted((Path(env["PTRADE_VAR_DIR"]) / "log").glob("*.log")))
        assert status == 0, f"round {index}: exit status {status}\n{text[-3000:]}{logs}"
        assert "Stopped." in text and "killed" not in text, f"round {index}:\n{text[-3000:]}{logs}"
        deadline = time.monotonic() + 5
        while _alive(var) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(var), f"round {index}: left running: {_alive(var)}"
        return text
    finally:
        for line in _alive(var):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGKILL)


def test_make_run_starts_quietly_and_stops_cleanly_ten_times(tmp_path):
    var = tmp_path / "var"
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
                          "PTRADE_TESTING", "PTRADE_WITNESSES", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(PTRADE_VAR_DIR=str(var), PORT=str(_free_port()), PTRADE_WITNESS_PORT=str(_free_port()),
               STOP_TIMEOUT="20", PYTHONUNBUFFERED="1")
    first = _round(tmp_path, 0, signal.SIGINT, env)
    assert "Demo accounts" in first
    env["PTRADE_SEED_DEMO"] = "0"
    for index in range(1, ROUNDS):
        _round(tmp_path, index, signal.SIGINT, env)
    _round(tmp_path, ROUNDS, signal.SIGTERM, env)
    # a clean start says nothing alarming: neither on the terminal nor in the worker's log
    noise = [line for line in first.splitlines() if WARNING.search(line)]
    assert not noise, noise
    celery = (var / "log" / "celery.log").read_text() + (var / "log" / "beat.log").read_text()
    noise = [line for line in celery.splitlines() if WARNING.search(line) and "published ['warnings']" not in line
             and "Task audit.supervision_refresh" not in line]
    assert not noise, noise[:10]
    assert "supervise:" not in celery  # the worker was never restarted (it was only ever stopped)
