"""Runs inside the fault stack's environment (tests/faults/stack.py): `python scripts.py <name> [args]`.

Each command prints one JSON line (the last line of stdout) for the test to read.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import transaction  # noqa: E402

_counter = itertools.count(random.randint(1, 8_000_000))  # unique across runs of this script


def make_org(name=None, **fields):
    from accounts.services import organisation_create
    from accounts.uscc import make_uscc

    n = next(_counter)
    fields.setdefault("basic_account_number", f"62220000{n:08d}")
    fields.setdefault("basic_account_bank", "Demo Bank")
    fields.setdefault("basic_account_name", name or f"Org {n}")
    return organisation_create(actor="system", name=f"{name or 'Org'} {n}", uscc=make_uscc(f"9133010071{n:07d}"),
                               **fields)


def make_user(*roles, org=None, username=None, password="correct-horse-9", **fields):  # noqa: S107
    from accounts.services import user_create

    n = next(_counter)
    if org is None and any(r in roles for r in ("bidder", "tenderer", "agent")):
        org = make_org()
    return user_create(actor="system", username=username or f"user{n}", password=password, organisation=org,
                       roles=list(roles), **fields)


def world(n_bidders: str, each: str, out_dir: str, big_mb: str = "0") -> dict:
    """A published tender, `n_bidders` registered bidders with keys, `each` sealed envelopes per bidder
    written to `out_dir` (plus one of about `big_mb` MB per bidder in "big"), a supervisor token, and
    one signed deposit notification per bidder."""
    from accounts.tokens import token_issue
    from tests.trading.sealed import scenario, seal, sign
    from trading.deposits import bankmsg
    from trading.deposits.bankmsg import Transfer

    s = scenario(make_org, make_user, bidders=int(n_bidders))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    uploads, webhooks, big = [], [], []
    for i, b in enumerate(s.bidders):
        for j in range(int(each)):
            envelope = seal(s.lot, b, price=f"{1000 + i * 10 + j}.00")
            path = out / f"bid-{i}-{j}.sbe1"
            path.write_bytes(envelope)
            uploads.append({"path": str(path), "token": b.token, "signature": sign(b, envelope), "bidder": b.org_id})
        if int(big_mb):
            envelope = seal(s.lot, b, price=f"{2000 + i}.00", chunk_size=1 << 20,
                            files=[("technical.pdf", os.urandom(int(big_mb) << 20))])
            path = out / f"big-{i}.sbe1"
            path.write_bytes(envelope)
            big.append({"path": str(path), "token": b.token, "signature": sign(b, envelope), "bidder": b.org_id})
        account = b.registration.deposit_account
        transfer = Transfer(kind="arrival", txn_id=f"FAULT{next(_counter):010d}", virtual_account=account.number,
                            amount=s.lot.deposit_amount, booked_at=django.utils.timezone.now(),
                            counterparty_account=b.org.basic_account_number, counterparty_name=b.org.basic_account_name,
                            counterparty_bank=b.org.basic_account_bank, status="executed")
        body = bankmsg.notification_body(transfer)
        from django.conf import settings

        headers = bankmsg.signed_headers(settings.BANK_WEBHOOK_SECRET.encode(), body, timestamp=int(time.time()))
        webhooks.append({"body": body.decode(), "headers": headers, "txn_id": transfer.txn_id})
    return {"tender": s.tender.pk, "lot": s.lot.pk, "supervisor_token": token_issue(user=s.supervisor),
            "uploads": uploads, "webhooks": webhooks, "big": big}


def due_steps(count: str) -> dict:
    """`count` published tenders (no bids) whose bid deadline is due now: each sweep fails them (fewer than 3 bids)."""
    from django.utils import timezone

    from tests.trading.sealed import scenario
    from trading.models import ScheduledStep, Tender

    ids = [scenario(make_org, make_user, bidders=0).tender.pk for _ in range(int(count))]
    past = timezone.now() - django.utils.timezone.timedelta(seconds=1)
    with transaction.atomic():
        Tender.objects.filter(pk__in=ids).update(bid_deadline=past)
        ScheduledStep.objects.filter(tender_id__in=ids, kind="bid_deadline").update(due_at=past)
    return {"tenders": ids}


def tenders_state(ids: str) -> dict:
    from audit.models import AuditEvent
    from trading.models import Notice, ScheduledStep, Tender

    result = {}
    for pk in [int(x) for x in ids.split(",")]:
        rows = list(AuditEvent.objects.filter(object=f"trading.tender:{pk}").values_list("action", "data"))
        events = [a if a != "tender.status_changed" else f"{a}:{d.get('from')}->{d.get('to')}" for a, d in rows]
        result[pk] = {
            "status": Tender.objects.get(pk=pk).status,
            "deadline_steps_open": ScheduledStep.objects.filter(tender_id=pk, kind="bid_deadline",
                                                                done_at__isnull=True).count(),
            "events": {a: events.count(a) for a in set(events)},
            "notices": list(Notice.objects.filter(tender_id=pk).values_list("kind", flat=True)),
        }
    return result


def bids(lot: str) -> dict:
    from trading.bids import storage
    from trading.models import Bid, DepositEntry

    rows = [{"id": b.pk, "sha": b.envelope_sha256, "status": b.status, "bidder": b.bidder_id,
             "file": storage.path_of(b.storage_name).exists()}
            for b in Bid.objects.filter(lot_id=int(lot)).order_by("pk")]
    staged = [p.name for p in storage.staged_root().glob("*")] if storage.staged_root().exists() else []
    incoming = storage.envelope_root() / ".incoming"
    parts = [p.name for p in incoming.glob("*")] if incoming.exists() else []
    stored = [f"{p.parent.name}/{p.name}" for p in storage.envelope_root().glob("[0-9a-f][0-9a-f]/*.sbe1")]
    entries = list(DepositEntry.objects.filter(bank_transaction__isnull=False)
                   .values_list("bank_transaction__txn_id", flat=True))
    return {"bids": rows, "staged": staged, "parts": parts, "stored": stored, "deposit_entries": entries}


def sweep() -> dict:
    from datetime import timedelta

    from trading.bids.sweeper import storage_orphans_sweep

    report = storage_orphans_sweep(grace=timedelta(0))
    return {"removed": report.removed, "recovered": report.recovered}


def send_countdown() -> dict:
    from config.celery import app

    result = app.send_task("trading.tasks.run_due_step", args=[0], countdown=60)
    return {"task": result.id}


def heartbeats() -> dict:
    from audit.models import WorkerHeartbeat

    return {h.key: h.seen_at.timestamp() for h in WorkerHeartbeat.objects.all()}


def publish(key: str, count: str, interval: str) -> dict:
    """Publish `count` probe events to stream `key`, one every `interval` s; each carries its send time."""
    from realtime.streams import PUBLIC, stream_publish

    failed = 0
    for n in range(int(count)):
        try:
            with transaction.atomic():
                stream_publish(key=key, kind="probe", payload={"n": n, "sent": str(time.time())}, audience=PUBLIC)
        except Exception:  # the database is away: the probe is skipped
            failed += 1
            from django.db import close_old_connections

            close_old_connections()
        time.sleep(float(interval))
    return {"failed": failed}


COMMANDS = {f.__name__: f for f in (world, due_steps, tenders_state, bids, sweep, send_countdown, heartbeats, publish)}

if __name__ == "__main__":
    print(json.dumps(COMMANDS[sys.argv[1]](*sys.argv[2:]), default=str))
