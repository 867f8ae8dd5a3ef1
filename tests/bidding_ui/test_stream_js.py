"""The one stream client (bidding_ui/static/bidding_ui/stream.js) under Node, as both pages use it:
live supervision (supervision_state.js) and the opening room (room_state.js) — duplicates dropped,
one resync per gap (the guard) until the gap is filled or the resync times out, redacted events
advance the id, a 4403 close stops reconnecting, any other close reconnects."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

DRIVER = Path(__file__).parent / "js" / "stream_driver.mjs"


@pytest.fixture
def node():
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed")
    return path


def run(node, **payload) -> dict:
    proc = subprocess.run([node, str(DRIVER)], input=json.dumps(payload), capture_output=True, text=True,  # noqa: S603
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def ev(i, kind, payload):
    return {"type": "event", "id": i, "kind": kind, "payload": payload}


SNAPSHOT = {"type": "snapshot", "last_id": 10,
            "state": {"rooms": [], "draws": [], "warnings": [], "counts": {"red": 0, "yellow": 0}}}
E11 = ev(11, "rooms", {"items": [{"tender": 1, "code": "T-1"}], "computed_at": "2026-05-01T01:00:00Z"})
E12 = ev(12, "warnings", {"items": [{"key": "k", "level": "red"}], "counts": {"red": 1, "yellow": 0},
                          "added": ["k"]})
E13 = {"type": "redacted", "id": 13}
E14 = ev(14, "draws", {"items": [{"draw": 3}]})
E15 = ev(15, "rooms", {"items": [], "computed_at": "2026-05-01T02:00:00Z"})
FINAL = {"rooms": [], "draws": [{"draw": 3}], "warnings": [{"key": "k", "level": "red"}],
         "counts": {"red": 1, "yellow": 0}, "computed_at": "2026-05-01T02:00:00Z"}


def test_supervision_applies_in_order_and_asks_one_resync_per_gap(node):
    # 11, a duplicate 11, then 14 and 15 arrive before 12 and 13 (a gap): one resync only; the
    # server's resync answer (12, 13, 14, 15) fills it.
    out = run(node, client="supervision", messages=[SNAPSHOT, E11, E11, E14, E15, E14, E12, E13, E14, E15])
    assert out["sent"] == [{"type": "resync", "since": 11}]
    assert out["state"] == FINAL and out["lastId"] == 15


def test_a_resync_that_is_not_answered_is_asked_again_after_the_timeout(node):
    out = run(node, client="supervision", messages=[SNAPSHOT, E11, E14, E15, E14, E12, E13, E14, E15],
              clock=[0, 0, 100, 200, 6000, 6001, 6002, 6003, 6004])
    assert out["sent"] == [{"type": "resync", "since": 11}, {"type": "resync", "since": 11}]
    assert out["state"] == FINAL


def test_events_before_the_snapshot_are_ignored_and_a_new_snapshot_resets(node):
    out = run(node, client="supervision", messages=[E12, SNAPSHOT, E11, {**SNAPSHOT, "last_id": 20}, E14])
    assert out["lastId"] == 20 and out["sent"] == [] and out["state"]["rooms"] == []


def test_a_refused_socket_is_not_reopened_and_a_lost_one_is(node):
    refused = run(node, client="supervision", messages=[SNAPSHOT], close=4403)
    assert refused["statuses"][-1] == "refused" and refused["connections"] == 1
    lost = run(node, client="supervision", messages=[SNAPSHOT], close=1006)
    assert "offline" in lost["statuses"] and lost["connections"] == 2


def test_the_room_uses_the_same_client_and_guard(node):
    snapshot = {"type": "snapshot", "last_id": 1, "state": {"state": "signing_in", "signins": {}}}
    s2 = ev(2, "signin", {"key": 7, "entry": {"name": "A", "at": "2026-05-01T01:00:00Z"}})
    s3 = ev(3, "phase", {"state": "decrypting"})
    s4 = ev(4, "signin", {"key": 8, "entry": {"name": "B", "at": "2026-05-01T01:01:00Z"}})
    out = run(node, client="room", messages=[snapshot, s3, s4, s2, s3, s4])
    assert out["sent"] == [{"type": "resync", "since": 1}]
    signins = {"7": s2["payload"]["entry"], "8": s4["payload"]["entry"]}
    assert out["state"] == {"state": "decrypting", "signins": signins}
