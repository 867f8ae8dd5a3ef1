"""Kills and restarts against a real stack (issue 20): nothing acknowledged is lost or booked twice,
the worker and the room heal by themselves, and orphan files are swept.

Run with `make test-faults` (stack.py: own PostgreSQL, Redis, web and worker).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.faults.stack import ROOT, WEB_PORT

PUSH_MEDIAN_S = 0.5  # push delivery; the database fallback polls every 1 s (outage) or 3 s (normal)
PUSH_P90_S = 1.0


def _post(url: str, body: bytes, headers: dict, timeout: float = 60) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0  # no answer at all


def _parallel(jobs) -> list:
    results = [None] * len(jobs)

    def run(i, job):
        results[i] = job()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _upload(stack, world, item) -> int:
    body = Path(item["path"]).read_bytes()
    url = f"{stack.url}/api/v1/tenders/{world['tender']}/lots/{world['lot']}/bids"
    return _post(url, body, {"Authorization": f"Token {item['token']}", "X-Envelope-Signature": item["signature"],
                             "Content-Type": "application/octet-stream"})


def _webhook(stack, hook) -> int:
    return _post(f"{stack.url}/api/v1/deposits/bank-notifications", hook["body"].encode(),
                 {"Content-Type": "application/json", **hook["headers"]})


def _resigned(hook: dict) -> dict:
    from trading.deposits import bankmsg

    body = hook["body"].encode()
    secret = stack_secret()
    return {**hook, "headers": bankmsg.signed_headers(secret, body, timestamp=int(time.time()))}


def stack_secret() -> bytes:
    from tests.faults.stack import BANK_SECRET

    return BANK_SECRET.encode()


def _verify_audit(stack) -> None:
    stack.python("manage.py", "audit", "verify", "--no-progress", timeout=600)


# --- PostgreSQL restart during uploads and webhooks -------------------------------------------------------

def test_postgres_restart_during_uploads_and_webhooks(stack, world):
    uploads, hooks = world["uploads"], world["webhooks"]
    restarter = threading.Timer(0.3, lambda: stack.pg_restart("immediate", down_seconds=2))
    restarter.start()
    first = _parallel([lambda u=u: _upload(stack, world, u) for u in uploads]
                      + [lambda h=h: _webhook(stack, h) for h in hooks])
    restarter.join()
    # The bank retries every notification, re-signed with a new timestamp (docs/deposits.md): each
    # is booked now or answered as a duplicate; the very same signed payload again is refused as
    # replayed when it was accepted before.
    hook_status = first[len(uploads):]
    resigned = [_resigned(h) for h in hooks]
    retried = _parallel([lambda h=h: _webhook(stack, h) for h in resigned])
    assert all(code == 200 for code in retried), retried
    replayed = _parallel([lambda h=h: _webhook(stack, h) for h in hooks + resigned])
    assert all(code in (200, 409) for code in replayed), replayed
    state = stack.script("bids", str(world["lot"]))
    acknowledged = [u for u, code in zip(uploads, first[:len(uploads)], strict=True) if code == 201]
    shas = {b["sha"] for b in state["bids"]}
    for u in acknowledged:  # every receipt given has its committed row ...
        assert any(b["bidder"] == u["bidder"] for b in state["bids"])
    assert len(shas) == len(state["bids"])  # ... no envelope booked twice ...
    assert all(b["file"] for b in state["bids"])  # ... and every row its file under its final name
    # Each notification booked exactly once, whatever the restarts and duplicates.
    assert sorted(state["deposit_entries"]) == sorted(h["txn_id"] for h in hooks), (hook_status, state)
    # Files of failed COMMITs were only staged; the sweep removes them, nothing stays unreferenced.
    stack.script("sweep")
    after = stack.script("bids", str(world["lot"]))
    assert after["staged"] == [] and after["parts"] == []
    assert sorted(after["stored"]) == sorted({f"{b['sha'][:2]}/{b['sha']}.sbe1" for b in after["bids"]})
    _verify_audit(stack)


# --- orphan sweep after a killed web ----------------------------------------------------------------------

def test_web_killed_during_uploads_leaves_nothing_after_the_sweep(stack, world):
    uploads = world["big"] + world["uploads"][:10]  # 16 MB envelopes: the kill lands while files are written
    killer = threading.Timer(1.5, lambda: _kill9(stack.web))
    killer.start()
    _parallel([lambda u=u: _upload(stack, world, u) for u in uploads])
    killer.join()
    stack.web_start()
    left = stack.script("bids", str(world["lot"]))
    report = stack.script("sweep")
    swept = {(r["area"], r["name"]) for r in report["removed"] + report["recovered"]}
    for name in left["parts"]:  # whatever the kill left is swept
        assert ("envelopes.incoming", name) in swept
    for name in left["staged"]:
        assert ("envelopes.staged", name) in swept
    state = stack.script("bids", str(world["lot"]))
    assert state["staged"] == [] and state["parts"] == []
    assert sorted(state["stored"]) == sorted({f"{b['sha'][:2]}/{b['sha']}.sbe1" for b in state["bids"]})
    assert all(b["file"] for b in state["bids"])
    print("left by kill -9:", json.dumps({"parts": left["parts"], "staged": left["staged"]}),
          "swept:", json.dumps(report))
    _verify_audit(stack)


def _kill9(proc) -> None:
    import os
    import signal

    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(20)


# --- worker killed mid-step ----------------------------------------------------------------------------------

def test_worker_killed_mid_step_repeatedly_every_step_done_once(stack):
    tenders = stack.script("due_steps", "6", timeout=600)["tenders"]
    for delay in (0.5, 1.0, 1.5):  # the sweep runs every 5 s; kill while it works
        time.sleep(delay)
        stack.worker_kill()
        stack.worker_start()
    deadline = time.monotonic() + 120
    while True:
        state = stack.script("tenders_state", ",".join(map(str, tenders)))
        if all(s["deadline_steps_open"] == 0 for s in state.values()) or time.monotonic() > deadline:
            break
        time.sleep(2)
    for pk, s in state.items():
        assert s["deadline_steps_open"] == 0, (pk, s)
        assert s["status"] == "failed", (pk, s)  # fewer than 3 bids
        transitions = {a: n for a, n in s["events"].items() if a.startswith("tender.status_changed")}
        assert set(transitions) == {"tender.status_changed:draft->published",
                                    "tender.status_changed:published->bidding_closed",
                                    "tender.status_changed:bidding_closed->failed"}, (pk, transitions)
        assert all(n == 1 for n in transitions.values()), (pk, transitions)  # every transition once
        assert s["notices"].count("failure") == 1, (pk, s)
    _verify_audit(stack)


# --- Redis outage with connected room sockets -------------------------------------------------------------------

async def _watch(url: str, token: str, events: list, closed: list, stop: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, additional_headers={"Authorization": f"Token {token}"},
                       origin=f"http://127.0.0.1:{WEB_PORT}", open_timeout=30) as ws:
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot"
        last = snapshot["last_id"]
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            except Exception as exc:  # the socket closed
                closed.append(repr(exc))
                return
            message = json.loads(raw)
            if message["type"] in ("event", "redacted"):
                assert message["id"] == last + 1, (message["id"], last)  # gapless, no duplicates
                last = message["id"]
                if message.get("kind") == "probe":
                    events.append((time.time(), float(message["payload"]["sent"])))


def _latencies(events: list, start: float, end: float) -> list[float]:
    return sorted(received - sent for received, sent in events if start <= sent < end)


def test_redis_outage_keeps_room_sockets_open_and_push_returns(stack, world):
    beat_before = stack.script("heartbeats")
    stack.script("send_countdown")  # the worker now holds an unacknowledged countdown task
    url = f"ws://127.0.0.1:{WEB_PORT}/ws/opening/{world['tender']}/"
    sockets = 10
    events = [[] for _ in range(sockets)]
    closed: list = []
    timeline: dict[str, float] = {}

    async def scenario():
        stop = asyncio.Event()
        watchers = [asyncio.ensure_future(_watch(url, world["supervisor_token"], events[i], closed, stop))
                    for i in range(sockets)]
        await asyncio.sleep(2)
        publisher = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "faults" / "scripts.py"), "publish",
             f"opening:tender:{world['tender']}", "600", "0.2"],
            cwd=ROOT, env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):  # the publisher starts Django first: wait for its first probe everywhere
                if all(events):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(6)
            timeline["down"] = time.time()
            await asyncio.to_thread(stack.redis_kill)
            await asyncio.sleep(8)
            await asyncio.to_thread(stack.redis_start)
            timeline["up"] = time.time()
            await asyncio.sleep(16)
            timeline["end"] = time.time()
        finally:
            publisher.kill()
            publisher.wait(10)
            await asyncio.sleep(1)
            stop.set()
            await asyncio.gather(*watchers, return_exceptions=True)

    asyncio.run(scenario())
    assert closed == [], f"sockets closed during the outage: {closed}"
    down, up, end = timeline["down"], timeline["up"], timeline["end"]
    for mine in events:
        before = _latencies(mine, down - 5, down)
        during = _latencies(mine, down + 2, up)
        after = _latencies(mine, up + 10, end)
        assert before and during and after, (len(before), len(during), len(after))
        assert statistics.median(before) < PUSH_MEDIAN_S, before
        assert max(during) < 5, during  # served from the database stream while Redis is away
        # Back to push level within 10 s after Redis returns, without any restart.
        assert statistics.median(after) < PUSH_MEDIAN_S, after
        assert after[int(len(after) * 0.9) - 1] < PUSH_P90_S, after
    report = {"before_p50": statistics.median(_latencies(events[0], down - 5, down)),
              "during_p50": statistics.median(_latencies(events[0], down + 2, up)),
              "after_p50": statistics.median(_latencies(events[0], up + 10, end))}
    print("room latency (s):", json.dumps(report))
    # The worker survived the outage and works again: beat's heartbeat reaches it after Redis returned.
    assert stack.worker.poll() is None, "the worker died"
    deadline = time.monotonic() + 30
    while stack.script("heartbeats").get("beat", 0) <= up and time.monotonic() < deadline:
        time.sleep(1)
    assert stack.script("heartbeats").get("beat", 0) > up, (beat_before, stack.script("heartbeats"))
    assert b"Unrecoverable error" not in stack.worker_log.read_bytes()
