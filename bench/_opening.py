"""Shared set-up of the opening benchmarks: a published tender with keyed bidders, and a real ASGI server.

Imported after `_django.setup()`. Loopback only; every server is a child process that the
benchmark stops itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import sbe1

ROOT = Path(__file__).resolve().parent.parent


_counter = iter(range(1, 10**7))


def _org(name):
    from accounts.services import organisation_create
    from accounts.uscc import make_uscc

    n = next(_counter)
    return organisation_create(actor="system", name=name, uscc=make_uscc(f"9133010072{n:07d}"),
                               basic_account_number=f"6222{n:012d}", basic_account_bank="Bench Bank",
                               basic_account_name=name)


def _user(username, roles, organisation=None):
    from django.conf import settings

    from accounts.services import user_create

    # Benchmark users log in with tokens: a cheap password hash keeps the set-up short.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return user_create(actor="system", username=username, password="bench-password-1",  # noqa: S106
                       organisation=organisation, roles=roles)


def make_bidders(n: int) -> list:
    """`n` bidder users (each its own organisation) with registered keys and API tokens."""
    from accounts.tokens import token_issue
    from trading.bids.keys import key_register

    out = []
    for i in range(n):
        bidder = _user(f"bench-bidder-{i}", ["bidder"], _org(f"Bench Bidder {i}"))
        key = sbe1.generate_private_key()
        key_register(actor=bidder, public_key=sbe1.spki_b64(key), holder="organisation")
        out.append((bidder, key, token_issue(user=bidder)))
    return out


def make_tender(*, bidders: list, deadline_in: timedelta, max_envelope_bytes: int = 4 * 1024 * 1024):
    """Tenderer, agent, custodians with keys, a published one-lot tender; `bidders` (make_bidders) register.
    Needs SANDBOX_TIME_ACCELERATION large enough for a deadline this close. Returns (tender, lot, supervisor)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from trading import clock
    from trading.bids.keys import key_register
    from trading.services.documents import document_upload
    from trading.services.registrations import registration_create
    from trading.services.tenders import lot_create, tender_create, tender_publish

    agent_org, tenderer_org = _org("Bench Agent"), _org("Bench Tenderer")
    agent = _user(f"bench-agent-{agent_org.pk}", ["agent", "custodian"], agent_org)
    supervisor = _user(f"bench-supervisor-{agent_org.pk}", ["supervisor", "custodian"])
    platform = _user(f"bench-platform-{agent_org.pk}", ["platform_admin", "custodian"])
    for custodian in (agent, supervisor, platform):
        key_register(actor=custodian, public_key=sbe1.spki_b64(sbe1.generate_private_key()), holder="custodian")
    tender = tender_create(actor=agent, title="Benchmark tender", tenderer=tenderer_org, procedure_type="goods",
                           bid_deadline=clock.now() + deadline_in, readout_items=["delivery_days"])
    lot = lot_create(actor=agent, tender=tender, title="Lot 1", estimated_price=Decimal("10000000.00"),
                     deposit_amount=Decimal("0"), max_envelope_bytes=max_envelope_bytes)
    document_upload(actor=agent, tender=tender,
                    file=SimpleUploadedFile("docs.pdf", b"%PDF-1.4 bench", content_type="application/pdf"))
    tender_publish(actor=agent, tender=tender)
    tender.refresh_from_db()
    lot.refresh_from_db()
    for bidder, _key, _token in bidders:
        registration_create(actor=bidder, lot=lot)
    return tender, lot, supervisor


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn serving config.asgi on 127.0.0.1 with the benchmark's environment."""

    def __init__(self, *, workers: int = 1, env: dict | None = None, settings: str = "_server_settings") -> None:
        self.port = free_port()
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings,
                    "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]), **(env or {})}
        self.workers = workers

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", str(self.workers), "--log-level", "warning",
               "--ws-max-size", "1048576", "--limit-concurrency", "5000", "--backlog", "4096"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env)  # noqa: S603
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/me", timeout=2)  # noqa: S310
            except urllib.error.HTTPError:
                return self  # the server answers (401/403 is fine)
            except OSError:
                time.sleep(0.25)
                continue
            return self
        self.proc.kill()
        raise RuntimeError("uvicorn did not start")

    def peak_rss_mb(self) -> float:
        """Peak resident memory (VmHWM) of the server process and its workers, MB (Linux)."""
        pids = [self.proc.pid]
        try:
            pids += [int(p) for p in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()]
            return max(int(next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                                 if line.startswith("VmHWM"))) for pid in pids) / 1024
        except (OSError, StopIteration, ValueError):
            return float("nan")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
