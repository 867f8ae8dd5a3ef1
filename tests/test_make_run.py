"""`make run` (bin/entrypoint local) starts without warning lines and stops cleanly (issue 16).

The entrypoint runs on its embedded defaults (SQLite, file-system broker, in-memory channel layer)
in a fresh PTRADE_VAR_DIR, with free ports for the web server and the local witness. Each round
starts it in its own session, waits until uvicorn serves and the Celery worker is ready, sends
SIGINT to the whole process group (what Ctrl-C in a terminal does) and requires: exit status 0,
no process of the group left, no forced KILL. Ten rounds in a row, then one with SIGTERM.
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
pytestmark = pytest.mark.slow  # `make test-slow` (CI): about three minutes

ROUNDS = 10
FIRST_START_TIMEOUT = 600.0  # a fresh SQLite database: every migration, then seed_demo
START_TIMEOUT = 180.0
STOP_TIMEOUT = 40.0
# Lines that are warnings whatever their source (Python warnings, logging WARNING, uvicorn's notes).
WARNING = re.compile(r"warning|SecurityWarning|No hostname was supplied|lifespan|superuser", re.IGNORECASE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-g", str(pgid)], capture_output=True, text=True,  # noqa: S603,S607
                         check=False).stdout
    # zombies are already dead (their parent, outside the group, reaps them)
    return [line for line in out.splitlines() if line.split()[1:2] and not line.split()[1].startswith("Z")]


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
    celery_log = Path(env["PTRADE_VAR_DIR"]) / "log" / "celery.log"
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
                        f"{output.read_text()[-3000:]}\n{_group_alive(proc.pid)}")
        text = output.read_text()
        assert status == 0, f"round {index}: exit status {status}\n{text[-3000:]}"
        assert "Stopped." in text and "killed" not in text, text[-3000:]
        deadline = time.monotonic() + 5
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(proc.pid), f"round {index}: left running: {_group_alive(proc.pid)}"
        return text
    finally:
        if proc.poll() is None or _group_alive(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


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
