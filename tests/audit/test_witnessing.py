"""Platform → witness round trip, quorum, refusals on the supervision dashboard, the public
feed, and the trust policy in `audit verify` and the offline verifier (docs/witness.md)."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from audit import checkpoints, merkle, witnessing
from audit.checkpoints import checkpoint_body
from audit.models import AuditEvent, Checkpoint, WitnessCosignature, WitnessSubmission
from audit.signing import platform_note_sign
from supervision.live import supervision_warnings
from tests.audit.tamper import append, guard_off, rewrite
from tests.witness.fixtures import ToyLog, platform_witnesses, post

pytestmark = pytest.mark.django_db
VERIFIER = Path(settings.BASE_DIR) / "audit" / "verifier" / "ptrade_audit_verify.py"


def cosignature_ok(line: str, body: str, name: str, public: bytes) -> bool:
    """Independent check of a tlog-cosignature/v1 line (C2SP): key ID, u64 time, Ed25519."""
    sig_name, encoded = line.removeprefix("\u2014 ").rsplit(" ", 1)
    blob = base64.b64decode(encoded)
    if sig_name != name or blob[:4] != hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]:
        return False
    (ts,) = struct.unpack(">Q", blob[4:12])
    Ed25519PublicKey.from_public_bytes(public).verify(blob[12:], b"cosignature/v1\ntime %d\n" % ts + body.encode())
    return True


def sign_checkpoint(capture) -> Checkpoint:
    with capture(execute=True):
        return checkpoints.checkpoint_create()


def test_round_trip_stores_verifiable_cosignatures_and_publishes(tmp_path, settings, api,
                                                                   django_capture_on_commit_callbacks):
    with platform_witnesses(tmp_path, settings) as [(_url, witness)]:
        append(5)
        first = sign_checkpoint(django_capture_on_commit_callbacks)
        cos = WitnessCosignature.objects.get(checkpoint=first)
        body = first.note.partition("\n\n")[0] + "\n"
        assert cosignature_ok(cos.line, body, "witness0.test/w", witness.verifier.public_key)
        append(7)
        second = sign_checkpoint(django_capture_on_commit_callbacks)  # sent with old 5 and a proof
        assert WitnessCosignature.objects.filter(checkpoint=second).count() == 1
        sub = WitnessSubmission.objects.filter(tree_size=12).get()
        assert (sub.outcome, sub.old_size, sub.status) == ("cosigned", 5, 200)
        # the witnessed checkpoint: platform signature line, then the cosignature line
        note = witnessing.witnessed_note(second)
        assert note.startswith(second.note) and note.endswith(second.cosignatures.get().line + "\n")
        # the public feed, anonymous
        response = api.get("/api/v1/audit/witnessed")
        assert response.status_code == 200
        feed = response.json()["results"]
        assert [e["tree_size"] for e in feed] == [5, 12]
        assert feed[1]["witnesses"] == ["witness0.test/w"] and feed[1]["witnessed_checkpoint"] == note
        assert api.get("/api/v1/audit/witnessed?after=5").json()["results"][0]["tree_size"] == 12
        assert api.get("/api/v1/audit/witnessed?after=x").status_code == 400
        latest = api.get("/api/v1/audit/witnessed/latest")
        assert latest.status_code == 200 and latest.content.decode() == note
        page = api.get("/audit/witnessed/")
        assert page.status_code == 200 and "witness0.test/w" in page.content.decode()


def test_409_retry_from_the_size_the_witness_holds(tmp_path, settings, django_capture_on_commit_callbacks):
    with platform_witnesses(tmp_path, settings) as [(url, _witness)]:
        append(4)
        checkpoint = checkpoints.checkpoint_create()  # not sent (no on-commit run)
        # the witness got it, but our copy of the answer was lost
        assert post(url + "/add-checkpoint", b"old 0\n\n" + checkpoint.note.encode())[0] == 200
        append(6)
        later = sign_checkpoint(django_capture_on_commit_callbacks)
        subs = list(WitnessSubmission.objects.order_by("pk").values_list("tree_size", "old_size", "outcome"))
        assert subs == [(10, 4, "cosigned")]
        assert later.cosignatures.count() == 1


def test_quorum_and_unreachable_witness_is_yellow(tmp_path, settings, django_capture_on_commit_callbacks):
    with platform_witnesses(tmp_path, settings, count=2, quorum=2) as running:
        (vkey1, _url1) = settings.AUDIT_WITNESSES[1]
        settings.AUDIT_WITNESSES = [settings.AUDIT_WITNESSES[0], (vkey1, "http://127.0.0.1:9")]  # nobody there
        append(3)
        checkpoint = sign_checkpoint(django_capture_on_commit_callbacks)
        assert checkpoint.cosignatures.count() == 1
        assert witnessing.latest_published() is None and witnessing.anchor() is None
        warnings = [w for w in supervision_warnings() if w.kind.startswith("witness")]
        assert [(w.kind, w.level) for w in warnings] == [("witness_unreachable", "yellow")]
        settings.AUDIT_WITNESSES = [(w.vkey, url) for url, w in running]  # the second one is back
        assert witnessing.checkpoint_witness() == 2
        assert witnessing.latest_published() == checkpoint
        assert not [w for w in supervision_warnings() if w.kind.startswith("witness")]
        settings.AUDIT_WITNESS_QUORUM = 3
        assert witnessing.latest_published() is None


def test_witness_not_trusting_our_key_is_a_red_warning(tmp_path, settings, django_capture_on_commit_callbacks):
    other = ToyLog(origin=settings.AUDIT_LOG_ORIGIN)
    with platform_witnesses(tmp_path, settings, log_key=other.vkey):
        append(2)
        sign_checkpoint(django_capture_on_commit_callbacks)
    sub = WitnessSubmission.objects.get()
    assert (sub.outcome, sub.status) == ("refused", 403)
    [warning] = [w for w in supervision_warnings() if w.kind == "witness_refused"]
    assert warning.level == "red" and warning.subject == "audit.checkpoint:2"
    assert not WitnessCosignature.objects.exists()


def _purge(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER TABLE
    with guard_off(table) as cursor:
        cursor.execute(f"DELETE FROM audit_{table}")


@pytest.mark.postgres
def test_rewritten_history_gets_no_cosignature_and_verify_fails(tmp_path, settings,
                                                                   django_capture_on_commit_callbacks):
    """A DBA rewrites the log, deletes checkpoints, nodes and cosignatures; even a platform that
    signs the forged history gets no cosignature, a red warning shows, and `audit verify` with
    the trust policy fails."""
    with platform_witnesses(tmp_path, settings) as [(_url, witness)]:
        append(8)
        sign_checkpoint(django_capture_on_commit_callbacks)
        call_command("audit", "verify", "--no-progress", "--witness", witness.vkey)
        rewrite(3, {"forged": True})
        for table in ("witnesscosignature", "witnesssubmission", "checkpoint", "merklenode"):
            _purge(table)
        append(2)
        # a platform that signs whatever it holds (whether or not checkpoint_create refuses)
        leaves = [bytes.fromhex(h) for h in AuditEvent.objects.order_by("seq").values_list("hash", flat=True)]
        note = platform_note_sign(checkpoint_body(settings.AUDIT_LOG_ORIGIN, 10, merkle.root_from_leaves(leaves)))
        forged = Checkpoint.objects.create(tree_size=10, root_hash=merkle.root_from_leaves(leaves).hex(), note=note,
                                           created_at=AuditEvent.objects.get(seq=10).ts)
        witnessing.checkpoint_witness(tree_size=10)
        assert not forged.cosignatures.exists()
        sub = WitnessSubmission.objects.get()
        assert sub.outcome == "refused" and sub.old_size == 8 and sub.status == 422
        assert [w.level for w in supervision_warnings() if w.kind == "witness_refused"] == ["red"]
        with pytest.raises(CommandError, match="NOT WITNESSED"):
            call_command("audit", "verify", "--no-progress", "--witness", witness.vkey)


def _verify_offline(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-I", str(VERIFIER), str(bundle), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603


def test_trust_policy_in_audit_verify_and_offline(tmp_path, settings, capsys, django_capture_on_commit_callbacks):
    with platform_witnesses(tmp_path, settings, count=2) as running:
        (_, w0), (_, w1) = running
        append(6)
        sign_checkpoint(django_capture_on_commit_callbacks)
        stranger = ToyLog().key  # a witness nobody configured
        stranger_vkey = f"stranger.test/w+{_kid('stranger.test/w', stranger)}+" + base64.b64encode(
            b"\x04" + stranger.public_key().public_bytes_raw()).decode()
        policy = tmp_path / "policy.json"
        policy.write_text(json.dumps({"witnesses": [w0.vkey, w1.vkey], "quorum": 2}))
        call_command("audit", "verify", "--no-progress", "--trust-policy", str(policy))
        assert "witnessed by witness0.test/w, witness1.test/w: OK" in capsys.readouterr().out
        with pytest.raises(CommandError, match="NOT WITNESSED"):
            call_command("audit", "verify", "--no-progress", "--witness", stranger_vkey)
        with pytest.raises(CommandError, match="NOT WITNESSED"):
            call_command("audit", "verify", "--no-progress", "--witness", w0.vkey, "--witness", stranger_vkey,
                         "--quorum", "2")
        with pytest.raises(CommandError, match="quorum"):
            call_command("audit", "verify", "--no-progress", "--witness", w0.vkey, "--quorum", "2")
        bundle = tmp_path / "log.jsonl"
        call_command("audit", "export", "--out", str(bundle))
        ok = _verify_offline(bundle, "--trust-policy", str(policy))
        assert ok.returncode == 0, ok.stderr
        assert "witnesses: 2 valid cosignature(s)" in ok.stdout and "VERIFIED" in ok.stdout
        key_file = tmp_path / "w1.vkey"
        key_file.write_text(w1.vkey + "\n")
        assert _verify_offline(bundle, "--witness", str(key_file)).returncode == 0
        refused = _verify_offline(bundle, "--witness", stranger_vkey)
        assert refused.returncode == 1 and "NOT WITNESSED" in refused.stderr
        three = _verify_offline(bundle, "--witness", w0.vkey, "--witness", w1.vkey, "--witness", stranger_vkey,
                                "--quorum", "3")
        assert three.returncode == 1 and "NOT WITNESSED" in three.stderr
        # a cosignature line altered in the bundle no longer counts
        items = [json.loads(line) for line in bundle.read_text().splitlines()]
        lines = items[1]["note"].split("\n")
        lines[-2] = lines[-2][:-6] + ("AAAAA=" if not lines[-2].endswith("AAAAA=") else "BBBBB=")
        items[1]["note"] = "\n".join(lines)
        bundle.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items))
        assert _verify_offline(bundle, "--trust-policy", str(policy)).returncode == 1


def _kid(name: str, key: Ed25519PrivateKey) -> str:
    return hashlib.sha256(name.encode() + b"\n\x04" + key.public_key().public_bytes_raw()).digest()[:4].hex()


def test_replay_page_applies_the_trust_policy(tmp_path, settings, make_user, client,
                                              django_capture_on_commit_callbacks):
    from accounts.roles import Role

    with platform_witnesses(tmp_path, settings) as [(_url, witness)]:
        for i in range(3):
            from audit.services import audit_record

            audit_record(actor="system", action="test.event", obj="trading.tender:41", data={"i": i})
        sign_checkpoint(django_capture_on_commit_callbacks)
        client.force_login(make_user(Role.SUPERVISOR))
        good = client.get("/supervisor/tenders/41/replay/", {"witness": witness.vkey, "quorum": "1"})
        assert good.status_code == 200 and "cosigned by your trusted witnesses" in good.content.decode()
        other = ToyLog().key
        vkey = f"x.test/w+{_kid('x.test/w', other)}+" + base64.b64encode(
            b"\x04" + other.public_key().public_bytes_raw()).decode()
        bad = client.get("/supervisor/tenders/41/replay/", {"witness": vkey})
        assert bad.status_code == 200 and "NOT witnessed" in bad.content.decode()
        path = client.get("/supervisor/tenders/41/replay/", {"witness": "/etc/passwd"})
        assert path.status_code == 200 and "NOT witnessed" in path.content.decode()


def test_one_trust_policy_held_checkpoint_and_witnesses_together(tmp_path, settings, capsys, make_user, client,
                                                                 api, django_capture_on_commit_callbacks):
    """audit/trust.py: `--checkpoint` and `--witness/--quorum` in one `audit verify`, and the same
    policy (note + keys) on the replay page and the replay API (bad keys: 400, nothing changes)."""
    from accounts.roles import Role
    from audit.services import audit_record

    with platform_witnesses(tmp_path, settings) as [(_url, witness)]:
        for i in range(3):
            audit_record(actor="system", action="test.event", obj="trading.tender:42", data={"i": i})
        signed = sign_checkpoint(django_capture_on_commit_callbacks)
        held = signed.note
        held_file = tmp_path / "held.txt"
        held_file.write_text(held)
        call_command("audit", "verify", "--no-progress", "--checkpoint", str(held_file), "--witness", witness.vkey)
        assert "witnessed by witness0.test/w: OK" in capsys.readouterr().out
        supervisor = make_user(Role.SUPERVISOR)
        body = api.as_user(supervisor).get("/api/v1/audit/tenders/42/replay",
                                           {"checkpoint": held, "witness": witness.vkey, "quorum": 1}).json()
        assert body["checkpoint"]["held"][0]["ok"] is True and body["failed"] == 0
        assert body["checkpoint"]["witnessed"]["ok"] is True
        assert body["checkpoint"]["witnessed"]["witnesses"] == ["witness0.test/w"]
        refused = api.as_user(supervisor).get("/api/v1/audit/tenders/42/replay", {"witness": "not a key"})
        assert refused.status_code == 400 and "witness" in refused.json()["error"]["fields"]
        client.force_login(supervisor)
        page = client.get("/supervisor/tenders/42/replay/", {"checkpoint": held, "witness": witness.vkey})
        html = page.content.decode()
        assert "The log extends your checkpoint" in html and "cosigned by your trusted witnesses" in html
        # the held checkpoint and the witnesses both checked: truncation below it fails the command
        with guard_off() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE seq > %s", [signed.tree_size - 1])
        with pytest.raises(CommandError, match="TRUNCATED|NOT WITNESSED|refused|shorter"):
            call_command("audit", "verify", "--no-progress", "--checkpoint", str(held_file),
                         "--witness", witness.vkey)
