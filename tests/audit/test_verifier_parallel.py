"""The stand-alone verifier checks whole-log bundles in chunks on several processes; its verdicts and
messages are those of one pass (docs/audit.md, "For supervisors: checking the log offline")."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from audit import checkpoints
from audit.services import audit_record
from audit.signing import platform_verifier_key
from tests.audit.tamper import append
from tests.audit.test_export import TAMPERINGS, lines, write

pytestmark = pytest.mark.django_db(transaction=True)

VERIFIER = Path(settings.BASE_DIR) / "audit" / "verifier" / "ptrade_audit_verify.py"
PARALLEL = ("--workers", "2", "--chunk-bytes", "700")


def verify(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-I", str(VERIFIER), str(bundle), "--key", platform_verifier_key(), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def test_parallel_chunks_give_the_same_verdict_as_one_pass(tmp_path):
    olds = []
    for n, size in enumerate((1, 6, 64, 77, 128, 190)):
        while checkpoints.log_size() < size:
            audit_record(actor="system", action="test.event", obj=f"test.thing:{n}",
                         data={"i": checkpoints.log_size(), "名称": "道路工程" * (checkpoints.log_size() % 5)})
        note = tmp_path / f"old{size}.txt"
        note.write_text(checkpoints.checkpoint_create().note, encoding="utf-8")
        olds += ["--old-checkpoint", str(note)]
    append(9)
    bundle = tmp_path / "bundle.jsonl"
    call_command("audit", "export", "--out", str(bundle))
    one = verify(bundle, "--workers", "1", *olds)
    many = verify(bundle, *PARALLEL, *olds)
    assert one.returncode == 0, one.stderr
    assert many.returncode == 0, many.stderr
    assert many.stdout == one.stdout
    assert "events: 1..199, every leaf hash and chain link OK" in many.stdout
    assert many.stdout.count("the log extends it (root recomputed from the events)") == 6

    # An edit in the middle, caught in its chunk; a deletion at any position, caught at the chunk seams.
    items = lines(bundle)
    for seq in (2, 63, 64, 65, 128, 150, 199):
        dropped = [i for i in items if i.get("seq") != seq]
        result = verify(write(tmp_path / "dropped.jsonl", dropped), *PARALLEL)
        assert result.returncode == 1, (seq, result.stdout)
        if seq < 199:
            assert f"expected event {seq}, found {seq + 1}" in result.stderr, (seq, result.stderr)
    # A rewritten history: another old checkpoint of the same size is caught inside a chunk.
    other = json.loads(json.dumps(items))
    for item in other:
        if item.get("seq") == 100:
            event = json.loads(item["canonical"])
            event["data"]["i"] = -1
            item["canonical"] = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    result = verify(write(tmp_path / "edited.jsonl", other), *PARALLEL)
    assert result.returncode == 1 and "event 100: SHA-256(0x00 || canonical event) does not equal" in result.stderr


@pytest.mark.parametrize("name", TAMPERINGS)
def test_tampered_bundle_fails_the_same_in_parallel(tmp_path, name):
    append(6)
    bundle = tmp_path / "bundle.jsonl"
    call_command("audit", "export", "--out", str(bundle))
    assert verify(bundle, "--workers", "2", "--chunk-bytes", "300").returncode == 0
    tamper, message = TAMPERINGS[name]
    result = verify(write(bundle, tamper(lines(bundle))), "--workers", "2", "--chunk-bytes", "300")
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("FAILED: ") and message in result.stderr
    assert "VERIFIED" not in result.stdout


def test_strict_canonical_catches_a_non_canonical_event_the_platform_signed(tmp_path):
    from audit import merkle
    from audit.checkpoints import checkpoint_body
    from audit.signing import platform_note_sign

    append(5)
    bundle = tmp_path / "bundle.jsonl"
    call_command("audit", "export", "--out", str(bundle))
    items = lines(bundle)
    events = [i for i in items if i["type"] == "event"]
    last = events[-1]
    last["canonical"] = last["canonical"].replace('{"action"', '{ "action"', 1)  # valid JSON, not canonical
    last["hash"] = merkle.leaf_hash(last["canonical"].encode()).hex()
    root = merkle.root_from_leaves([bytes.fromhex(e["hash"]) for e in events])
    for item in items:
        if item["type"] == "checkpoint":
            item["note"] = platform_note_sign(checkpoint_body(settings.AUDIT_LOG_ORIGIN, len(events), root))
    write(bundle, items)
    # Integrity holds (the platform signed these bytes): the default check passes ...
    assert verify(bundle, *PARALLEL).returncode == 0
    # ... the strict one names the format error, in chunks and in one pass.
    for args in (PARALLEL, ("--workers", "1")):
        result = verify(bundle, "--strict-canonical", *args)
        assert result.returncode == 1 and "event 5: its JSON is not in canonical form" in result.stderr
