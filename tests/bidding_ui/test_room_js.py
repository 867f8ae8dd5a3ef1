"""room_state.js (the browser's room client) builds the same state as the server's snapshot.

A real opening runs through the services; its persisted events, redacted for a viewer as
the consumer sends them, are fed to RoomStream under Node with a duplicate and a gap
thrown in. The final state equals `room_state(viewer)`, and the gap made the client ask
for a resync from its last applied id.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.trading.sealed import dek_of, end_phase, pass_deadline, scenario, submit
from trading.opening import selectors
from trading.opening import services as sv
from trading.opening.room import apply_event, room_state

DRIVER = Path(__file__).parent / "js" / "room_driver.mjs"
pytestmark = pytest.mark.django_db


@pytest.fixture
def node():
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed")
    return path


def test_browser_client_state_equals_the_snapshot(node, make_org, make_user, settings, tmp_path, clock):
    settings.MEDIA_ROOT = tmp_path
    s = scenario(make_org, make_user)
    bids = [submit(s.lot, b, price=p) for b, p in zip(s.bidders, ["10.00", "20.00", "30.00"], strict=True)]
    viewer = s.bidders[0].user
    start_id, start_state = selectors.room_snapshot(user=viewer, tender=s.tender)
    pass_deadline(clock, s.tender)
    for b in s.bidders:
        sv.opening_sign_in(actor=b.user, tender=s.tender)
    end_phase(clock, s.tender)
    for b, bid in zip(s.bidders, bids, strict=True):
        sv.bid_dek_release(actor=b.user, tender=s.tender, bid_id=bid["id"], dek=dek_of(b, b.envelopes[bid["id"]]))
    sv.opening_objection_raise(actor=s.bidders[2].user, tender=s.tender, text="objection")
    for _ in range(2):
        end_phase(clock, s.tender)
    s.tender.refresh_from_db()
    events = selectors.room_events(user=viewer, tender=s.tender, since=start_id)
    expected = room_state(tender=s.tender, user=viewer)
    assert expected["state"] == "objections" and any(e["type"] == "redacted" for e in events)

    py_state = json.loads(json.dumps(start_state))
    for e in events:
        if e["type"] == "event":
            apply_event(py_state, e["kind"], e["payload"])
    assert py_state == expected

    snapshot = {"type": "snapshot", "last_id": start_id, "state": start_state}
    k = len(events) // 2
    # A duplicate, then a gap (event k+1 arrives before k): the client asks to resync from k-1's id.
    messages = [snapshot, *events[:k], events[k - 1], events[k + 1], *events[k:]]
    proc = subprocess.run([node, str(DRIVER)], input=json.dumps({"messages": messages}), capture_output=True, text=True,  # noqa: S603
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["state"] == expected and out["lastId"] == events[-1]["id"]
    assert out["sent"] == [{"type": "resync", "since": events[k - 1]["id"]}]
