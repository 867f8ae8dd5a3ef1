"""Export bundles and the stand-alone verifier, run as a subprocess like a supervisor would."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from audit import checkpoints, merkle
from audit.checkpoints import checkpoint_body
from audit.services import audit_record, leaf_hash
from audit.signing import platform_note_sign, platform_verifier_key
from tests.audit.tamper import append, rewrite

pytestmark = pytest.mark.django_db(transaction=True)

VERIFIER = Path(settings.BASE_DIR) / "audit" / "verifier" / "ptrade_audit_verify.py"


def verify(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    # Isolated (-I): no project directory on sys.path, no PYTHON* variables; only the
    # standard library and the installed `cryptography` package.
    command = [sys.executable, "-I", str(VERIFIER), str(bundle), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603


def export(tmp_path: Path, name: str = "bundle.jsonl", *args: str) -> Path:
    out = tmp_path / name
    call_command("audit", "export", "--out", str(out), *args)
    return out


def lines(bundle: Path) -> list[dict]:
    return [json.loads(line) for line in bundle.read_text(encoding="utf-8").splitlines()]


def write(bundle: Path, items: list[dict]) -> Path:
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    bundle.write_text(text, encoding="utf-8")
    return bundle


def _tender_events() -> None:
    audit_record(actor="system", action="tender.published", obj="trading.tender:7", data={"title": "道路"})
    append(3)
    audit_record(actor="system", action="bid.received", obj="trading.bid:1", data={"tender": 7, "lot": 1})
    audit_record(actor="system", action="bid.received", obj="trading.bid:2", data={"tender": "7"})
    audit_record(actor="system", action="bid.received", obj="trading.bid:3", data={"tender": 8})
    append(2)


def test_whole_log_bundle_verifies(tmp_path, capsys):
    append(5)
    old_note = tmp_path / "old.txt"
    old_note.write_text(checkpoints.checkpoint_create().note, encoding="utf-8")
    _tender_events()
    bundle = export(tmp_path)
    assert "exported 14 events (whole log) at tree size 14" in capsys.readouterr().out
    items = lines(bundle)
    assert [item["type"] for item in items[:2]] == ["header", "checkpoint"]
    assert items[-1] == {"type": "end", "events": 14}
    event = items[2]
    assert leaf_hash(event["canonical"].encode()) == event["hash"]
    result = verify(bundle, "--key", platform_verifier_key(), "--old-checkpoint", str(old_note))
    assert result.returncode == 0, result.stderr
    assert "events: 1..14, every leaf hash and chain link OK" in result.stdout
    assert "merkle root: recomputed from 14 events, equals the signed root" in result.stdout
    assert f"old checkpoint {old_note}: the log extends it" in result.stdout
    assert result.stdout.rstrip().endswith("VERIFIED")
    unpinned = verify(bundle)
    assert unpinned.returncode == 0 and "taken from the bundle itself" in unpinned.stdout


def test_tender_bundle_holds_the_tenders_events_with_inclusion_proofs(tmp_path):
    _tender_events()
    old_note = tmp_path / "old.txt"
    old_note.write_text(checkpoints.checkpoint_create().note, encoding="utf-8")
    append(4)
    bundle = export(tmp_path, "tender.jsonl", "--tender", "7", "--consistency-from", "9")
    items = lines(bundle)
    events = [item for item in items if item["type"] == "event"]
    assert [e["seq"] for e in events] == [1, 5, 6]
    assert all(e["inclusion"] for e in events)
    assert items[0]["scope"] == "tender" and items[0]["tender"] == "7" and items[0]["tree_size"] == 13
    result = verify(bundle, "--key", platform_verifier_key(), "--old-checkpoint", str(old_note))
    assert result.returncode == 0, result.stderr
    assert "consistency proof: tree size 9 -> 13 OK" in result.stdout
    assert "3 events of tender 7, every leaf hash and inclusion proof against tree size 13" in result.stdout
    assert f"old checkpoint {old_note}: the log extends it (consistency proof)" in result.stdout
    missing = verify(export(tmp_path, "plain.jsonl", "--tender", "7"), "--old-checkpoint", str(old_note))
    assert missing.returncode == 1
    assert "no proof in the bundle for old checkpoint size(s) 9" in missing.stderr


def test_export_of_an_unknown_tender_is_refused(tmp_path):
    append(2)
    with pytest.raises(CommandError, match="no events of tender 99"):
        export(tmp_path, "none.jsonl", "--tender", "99")
    assert not (tmp_path / "none.jsonl").exists()


def _edit_event(items: list[dict], seq: int, change) -> list[dict]:
    for item in items:
        if item["type"] == "event" and item["seq"] == seq:
            event = json.loads(item["canonical"])
            change(event, item)
            item["canonical"] = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return items


def _rehash(event: dict, item: dict) -> None:
    event["data"] = {"i": 1000}
    item["hash"] = merkle.leaf_hash(
        json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hex()


TAMPERINGS = {
    "content changed": (lambda items: _edit_event(items, 3, lambda e, i: e["data"].update(i=77)),
                        "event 3: SHA-256(0x00 || canonical event) does not equal its hash"),
    "content changed and rehashed": (lambda items: _edit_event(items, 3, _rehash),
                                     "event 4: prev is not the hash of event 3"),
    "event dropped": (lambda items: [i for i in items if i.get("seq") != 4],
                      "expected event 4, found 5"),
    "end line dropped": (lambda items: items[:-1], "no end line"),
    "last event and end dropped": (lambda items: items[:-2], "holds events 1..5 but the checkpoint covers 6"),
    "checkpoint size changed": (lambda items: [{**i, "note": i["note"].replace("\n6\n", "\n5\n", 1)}
                                               if i["type"] == "checkpoint" else i for i in items],
                                "signature by"),
    "not canonical": (lambda items: [{**i, "canonical": i["canonical"].replace('","', '", "', 1)}
                                     if i.get("seq") == 2 else i for i in items],
                      "event 2: SHA-256"),
}


@pytest.mark.parametrize("name", TAMPERINGS)
def test_tampered_whole_log_bundle_fails(tmp_path, name):
    append(6)
    bundle = export(tmp_path)
    assert verify(bundle, "--key", platform_verifier_key()).returncode == 0
    tamper, message = TAMPERINGS[name]
    result = verify(write(bundle, tamper(lines(bundle))), "--key", platform_verifier_key())
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("FAILED: ") and message in result.stderr
    assert "VERIFIED" not in result.stdout


def test_log_rewritten_after_a_checkpoint_fails_offline(tmp_path):
    append(6)
    checkpoints.checkpoint_create()
    rewrite(3, {"i": 333})
    append(1)
    # The platform no longer signs (and so no longer exports) a rewritten history.
    with pytest.raises(CommandError, match="signed checkpoint at tree size 6 .*rewritten"):
        export(tmp_path)
    assert not (tmp_path / "bundle.jsonl").exists()


def test_old_checkpoint_from_another_history_fails(tmp_path):
    append(6)
    forged = tmp_path / "other-history.txt"
    forged.write_text(platform_note_sign(checkpoint_body(settings.AUDIT_LOG_ORIGIN, 4, b"\x07" * 32)))
    result = verify(export(tmp_path), "--old-checkpoint", str(forged))
    assert result.returncode == 1 and "NOT an extension of old checkpoint" in result.stderr
    bigger = tmp_path / "bigger.txt"
    bigger.write_text(platform_note_sign(checkpoint_body(settings.AUDIT_LOG_ORIGIN, 9, b"\x07" * 32)))
    result = verify(tmp_path / "bundle.jsonl", "--old-checkpoint", str(bigger))
    assert result.returncode == 1 and "truncated" in result.stderr


def test_bundle_signed_by_another_key_fails_against_the_pinned_key(tmp_path):
    append(3)
    bundle = export(tmp_path)
    other = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    result = verify(bundle, "--key", other)
    assert result.returncode == 1 and "another key than the pinned --key" in result.stderr
    items = lines(bundle)
    items[0]["verifier_key"] = other
    result = verify(write(bundle, items))
    assert result.returncode == 1 and "no signature by key PeterNeumann+c74f20a3" in result.stderr


def test_tampered_tender_bundle_fails(tmp_path):
    _tender_events()
    bundle = export(tmp_path, "tender.jsonl", "--tender", "7")
    items = lines(bundle)
    proof_flipped = json.loads(json.dumps(items))
    event = next(i for i in proof_flipped if i["type"] == "event")
    event["inclusion"][0] = ("0" if event["inclusion"][0][0] != "0" else "1") + event["inclusion"][0][1:]
    result = verify(write(tmp_path / "a.jsonl", proof_flipped))
    assert result.returncode == 1 and "inclusion proof does not lead to the signed root" in result.stderr
    other_tender = [{**i, "canonical": i["canonical"].replace('"tender":"7"', '"tender":"8"')}
                    if i.get("seq") == 6 else i for i in items]
    assert other_tender != items
    result = verify(write(tmp_path / "b.jsonl", other_tender))
    assert result.returncode == 1 and "event 6: SHA-256" in result.stderr
    truncated_proof = json.loads(json.dumps(items))
    next(i for i in truncated_proof if i["type"] == "event")["inclusion"].pop()
    result = verify(write(tmp_path / "c.jsonl", truncated_proof))
    assert result.returncode == 1 and "inclusion proof is too short" in result.stderr


def test_unusable_input_exits_2(tmp_path):
    result = verify(tmp_path / "missing.jsonl")
    assert result.returncode == 2 and "ERROR" in result.stderr
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not json\n")
    result = verify(garbage)
    assert result.returncode == 1 and "line 1 is not JSON" in result.stderr
