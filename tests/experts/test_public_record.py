"""A draw anyone can re-run: the record published when the panel is unsealed (docs/experts.md,
"Public draw record"), re-run by an independent implementation written from the docs, by the offline
kit (audit/verifier/ptrade_draw_verify.py, as a subprocess) and by the public page."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from audit.checkpoints import checkpoint_create
from audit.models import AuditEvent
from audit.signing import platform_verifier_key
from experts.models import AssignmentStatus as S
from experts.services.draws import assignment_respond, panel_reveal

pytestmark = pytest.mark.django_db

KIT = Path(settings.BASE_DIR) / "audit" / "verifier" / "ptrade_draw_verify.py"


def _answer_all(draw, *, decline_first: bool = False):
    declined = not decline_first
    while True:
        waiting = list(draw.assignments.filter(status=S.NOTIFIED).order_by("seq"))
        if not waiting:
            break
        for a in waiting:
            accept = declined
            declined = True
            assignment_respond(actor="system", assignment=a, accept=accept, via="test")
    draw.refresh_from_db()


def _record(draw_pk: int):
    return APIClient().get(f"/api/v1/draws/{draw_pk}/record")


# --- an independent implementation, written from docs/experts.md only -------------------------------

def doc_rerun(record: dict) -> dict[int, int]:
    """Returns {seat: expert} of the accepted panel; asserts every documented check."""
    seed, entropy = bytes.fromhex(record["seed"]), bytes.fromhex(record["entropy"])
    assert hashlib.sha256(seed).hexdigest() == record["seed_sha256"]
    commit = record["commit_event"].encode()
    assert hashlib.sha256(b"\x00" + commit).digest() == entropy
    data = json.loads(commit)["data"]
    assert data["seed_sha256"] == record["seed_sha256"] and data["pool_sha256"] == record["pool_sha256"]
    digest = hashlib.sha256()
    for i, line in enumerate(record["lines"]):
        digest.update(i.to_bytes(4, "big") + len(line["pool"]).to_bytes(4, "big"))
        for x in line["pool"]:
            digest.update(x.to_bytes(8, "big"))
    assert digest.hexdigest() == record["pool_sha256"]
    k = hashlib.sha256(b"ptrade-expert-draw-v1\x00" + seed + entropy).digest()
    state = {i: {"a": list(line["pool"]), "t": 0, "w": 0} for i, line in enumerate(record["lines"])}

    def word(i: int) -> int:
        s = state[i]
        j, r = divmod(s["w"], 4)
        block = hashlib.sha256(k + i.to_bytes(4, "big") + j.to_bytes(8, "big")).digest()
        s["w"] += 1
        return struct.unpack(">4Q", block)[r]

    def output(i: int) -> int:
        s = state[i]
        n = len(s["a"]) - s["t"]
        while True:
            x = word(i)
            if x < 2**64 - (2**64 % n):
                break
        t, r = s["t"], x % n
        s["a"][t], s["a"][t + r] = s["a"][t + r], s["a"][t]
        s["t"] += 1
        return s["a"][t]

    earlier: set[int] = set()
    first_usable: dict[int, list[dict]] = {i: [] for i in state}
    for row in sorted(record["sequence"], key=lambda r: r["seq"]):
        assert output(row["line"]) == row["expert"]
        assert (row["skip"] == "duplicate") == (row["expert"] in earlier)
        earlier.add(row["expert"])
        if row["initial"] and row["skip"] is None:
            first_usable[row["line"]].append(row)
    for i, line in enumerate(record["lines"]):
        assert (state[i]["t"], state[i]["w"]) == (line["steps"], line["words"])
        assert [r["drawn_as"] for r in first_usable[i]] == (
            ["member"] * line["count"] + ["reserve"] * line["reserves"])[:len(first_usable[i])]
    return {r["seat"]: r["expert"] for r in record["sequence"] if r["outcome"] == "accepted"}


def run_kit(tmp_path: Path, record: dict, *args: str) -> subprocess.CompletedProcess:
    file = tmp_path / "record.json"
    file.write_text(json.dumps(record), encoding="utf-8")
    return subprocess.run([sys.executable, "-I", str(KIT), str(file), *args],  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)


def test_unsealing_the_panel_publishes_seed_and_pool_and_anyone_reruns_the_draw(world, pool, draw_now, tmp_path):
    draw = draw_now()
    assert _record(draw.pk).status_code == 404  # sealed: nothing public, not even that it exists
    _answer_all(draw, decline_first=True)  # one decline: a reserve is promoted
    assert _record(draw.pk).status_code == 404
    assert panel_reveal(actor="system", draw=draw).revealed
    draw.refresh_from_db()
    # Published automatically with the reveal: no supervisor action needed.
    assert draw.seed_revealed_at is not None
    assert AuditEvent.objects.filter(action="expert_draw.seed_revealed", object=f"experts.draw:{draw.pk}").exists()
    checkpoint_create()

    response = _record(draw.pk)  # anonymous
    assert response.status_code == 200, response.content
    record = response.json()
    assert record["seed"] == draw.seed_revealed and record["entropy"] == draw.entropy
    assert [len(line["pool"]) for line in record["lines"]] == [line.pool_size for line in draw.lines.order_by("index")]
    accepted = dict(draw.assignments.filter(status=S.ACCEPTED).values_list("seat", "expert_id"))
    assert any(r["outcome"] == "declined" for r in record["sequence"])

    # Names: only the members'; the other outputs are pool ids only.
    assert {m["seat"]: m["expert"] for m in record["members"]} == accepted
    text = json.dumps(record, ensure_ascii=False)
    others = draw.assignments.exclude(status=S.ACCEPTED).select_related("expert")
    assert all(a.expert.name not in text for a in others)
    assert all(r["skip"] in (None, "duplicate", "unavailable") for r in record["sequence"])

    # An independent implementation written from the documentation reproduces the panel.
    assert doc_rerun(record) == accepted

    # The offline kit: no platform code, only the record and the platform's verifier key.
    done = run_kit(tmp_path, record, "--key", platform_verifier_key())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout and "in the log signed by" in done.stdout
    for seat, expert in accepted.items():
        assert f"seat {seat}: expert {expert}" in done.stdout

    # Tampering is caught.
    line0 = record["lines"][0]
    tampered = {
        "seed": {**record, "seed": "00" * 32},
        "pool": {**record, "lines": [{**line0, "pool": line0["pool"][:-1]}, *record["lines"][1:]]},
        "panel": {**record, "members": [{**record["members"][0], "expert": record["members"][1]["expert"]},
                                        *record["members"][1:]]},
        "sequence": {**record, "sequence": list(reversed(record["sequence"]))},
        "commit": {**record, "commit_event": record["commit_event"].replace('"seq":', '"seq": ', 1)},
    }
    for name, bad in tampered.items():
        done = run_kit(tmp_path, bad, "--key", platform_verifier_key())
        assert done.returncode == 1 and "FAILED" in done.stderr, (name, done.stdout, done.stderr)

    # The public page re-runs it from the record too.
    page = Client().get(f"/draws/{draw.pk}/record/")
    assert page.status_code == 200
    assert "reproduced" in page.content.decode()


def test_record_stays_sealed_for_a_draw_not_revealed(world, pool, draw_now):
    draw = draw_now()
    _answer_all(draw)
    assert _record(draw.pk).status_code == 404
    assert Client().get(f"/draws/{draw.pk}/record/").status_code == 404
    assert _record(999999).status_code == 404


def test_after_publication_reserves_still_fill_seats_but_the_stream_stays_closed(world, pool, draw_now, tmp_path):
    from experts.models import DrawWarning
    from experts.services.draws import assignment_leave

    draw = draw_now()
    _answer_all(draw)
    panel_reveal(actor="system", draw=draw)
    draw.refresh_from_db()
    assert draw.seed_revealed_at is not None
    line0_reserve = draw.assignments.get(line__index=0, status=S.RESERVE)
    steps_before = list(draw.lines.order_by("index").values_list("steps", flat=True))
    # A member falls ill at the evaluation: the reserve drawn before the publication takes the seat.
    member = draw.assignments.get(seat=1)
    assignment_leave(actor=world.supervisor, assignment=member, reason="ill")
    line0_reserve.refresh_from_db()
    assert line0_reserve.seat == 1 and line0_reserve.status == S.NOTIFIED
    assert not DrawWarning.objects.filter(draw=draw).exists()
    # Nothing new was drawn from the (now predictable) stream.
    assert list(draw.lines.order_by("index").values_list("steps", flat=True)) == steps_before
    _answer_all(draw)
    # The next vacancy of line 0 finds no reserve: supplementary draw, no stream output.
    assignment_leave(actor=world.supervisor, assignment=draw.assignments.get(seat=2), reason="ill")
    assert DrawWarning.objects.filter(draw=draw, kind="draw_closed").count() == 1
    assert list(draw.lines.order_by("index").values_list("steps", flat=True)) == steps_before
    checkpoint_create()
    record = _record(draw.pk).json()
    assert doc_rerun(record) == dict(draw.assignments.filter(status=S.ACCEPTED).values_list("seat", "expert_id"))
    done = run_kit(tmp_path, record, "--key", platform_verifier_key())
    assert done.returncode == 0, done.stdout + done.stderr
