"""Node store, proofs from stored nodes, signed checkpoints, and `audit verify` catching
truncated and rewritten logs thanks to older checkpoints."""

import random

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit import checkpoints, merkle
from audit.models import AuditEvent, Checkpoint, MerkleNode
from audit.selectors import chain_verify
from audit.signing import note_sign
from audit.tasks import checkpoint_make
from tests.audit.tamper import append, guard_off, rewrite, truncate

pytestmark = pytest.mark.django_db(transaction=True)


def _leaves() -> list[bytes]:
    return [bytes.fromhex(h) for h in AuditEvent.objects.order_by("seq").values_list("hash", flat=True)]


def _assert_store_complete(prefix: int) -> None:
    leaves = _leaves()
    stored = {(n.level, n.index): bytes(n.hash) for n in MerkleNode.objects.all()}
    expected = {(level, index) for level in range(1, 20) for index in range(prefix >> level)}
    assert set(stored) == expected
    for (level, index), value in stored.items():
        assert value == merkle.root_from_leaves(leaves[index << level:(index + 1) << level])


def test_node_store_fills_incrementally():
    append(5)
    assert checkpoints.nodes_fill() == 4
    _assert_store_complete(4)
    append(1)
    assert checkpoints.nodes_fill() == 6
    append(20)
    assert checkpoints.nodes_fill(upto=13) == 12
    _assert_store_complete(12)
    assert checkpoints.nodes_fill(chunk=4) == 26
    _assert_store_complete(26)
    assert checkpoints.stored_prefix() == 26
    call_command("audit", "nodes", "--rebuild")
    _assert_store_complete(26)


def test_roots_and_proofs_from_the_store_match_the_naive_ones():
    append(23)
    leaves = _leaves()
    rng = random.Random(23)
    assert not MerkleNode.objects.exists()
    for size in range(1, 24):
        assert checkpoints.tree_root(size) == merkle.root_from_leaves(leaves[:size])
        seq = rng.randrange(1, size + 1)
        proof = checkpoints.inclusion_proof(seq=seq, tree_size=size)
        assert proof.hashes == merkle.inclusion_proof_from_leaves(seq - 1, leaves[:size])
        assert proof.leaf_hash == leaves[seq - 1] and proof.leaf_index == seq - 1
        first = rng.randrange(0, size + 1)
        consistency = checkpoints.consistency_proof(first=first, second=size)
        assert consistency.hashes == merkle.consistency_proof_from_leaves(first, leaves[:size])
        assert consistency.first_root == merkle.root_from_leaves(leaves[:first])
    assert checkpoints.stored_prefix() >= 22  # filled on demand
    paths = checkpoints.inclusion_paths([3, 9, 23], 23)
    assert paths[9] == merkle.inclusion_proof_from_leaves(8, leaves)


def test_checkpoints_are_signed_kept_and_idempotent():
    empty = checkpoints.checkpoint_create()
    assert empty.tree_size == 0 and empty.root_hash == merkle.EMPTY_ROOT.hex()
    append(3)
    first = checkpoints.checkpoint_create()
    assert checkpoints.checkpoint_open(first.note) == (3, merkle.root_from_leaves(_leaves()))
    assert first.note.startswith(f"{settings.AUDIT_LOG_ORIGIN}\n3\n")
    assert f"\n\n— {settings.AUDIT_LOG_ORIGIN} " in first.note
    assert checkpoints.checkpoint_create().pk == first.pk
    append(2)
    assert checkpoint_make.delay() is not None  # eager in tests: runs the Celery task now
    assert list(Checkpoint.objects.values_list("tree_size", flat=True)) == [5, 3, 0]
    assert checkpoints.checkpoint_latest().tree_size == 5


def test_beat_schedule_runs_the_checkpoint_task():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == checkpoint_make.name
    assert entry["schedule"] <= 600


def test_command_prints_the_signed_checkpoint(capsys):
    append(2)
    call_command("audit", "checkpoint")
    out = capsys.readouterr().out
    assert out == Checkpoint.objects.get(tree_size=2).note


@pytest.mark.parametrize("statement", [
    "UPDATE audit_checkpoint SET root_hash = 'forged'",
    "DELETE FROM audit_checkpoint",
])
def test_database_refuses_changing_checkpoints(statement):
    append(1)
    checkpoints.checkpoint_create()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert Checkpoint.objects.count() == 1


def test_verify_passes_and_counts_checkpoints(capsys):
    append(4)
    checkpoints.checkpoint_create()
    append(3)
    checkpoints.checkpoint_create()
    call_command("audit", "verify", "--no-progress")
    out = capsys.readouterr().out
    assert "audit chain OK: 7 events" in out
    assert "2 signed checkpoints match the log, latest at tree size 7" in out


def test_truncated_log_is_caught_thanks_to_an_older_checkpoint():
    append(8)
    checkpoints.checkpoint_create()
    truncate(keep=5)
    assert chain_verify().ok  # the hash chain alone cannot tell
    with pytest.raises(CommandError, match="TRUNCATED: the log has 5 events but the kept checkpoint at "
                                           "tree size 8"):
        call_command("audit", "verify", "--no-progress")
    with pytest.raises(CommandError, match="checkpoint refused"):
        call_command("audit", "checkpoint")


def test_rewritten_and_rechained_log_is_caught_thanks_to_an_older_checkpoint():
    append(6)
    checkpoints.checkpoint_create()
    append(4)
    checkpoints.checkpoint_create()
    rewrite(4, {"i": 99, "forged": True})
    assert AuditEvent.objects.get(seq=4).data == {"i": 99, "forged": True}
    assert chain_verify().ok  # every hash was recomputed: the chain verifies
    with pytest.raises(CommandError, match=r"REWRITTEN: the Merkle root recomputed from events 1\.\.6 "
                                           r"differs from the kept checkpoint at tree size 6"):
        call_command("audit", "verify", "--no-progress")


def test_rewrite_after_the_last_checkpoint_is_not_detectable_until_the_next():
    append(5)
    checkpoints.checkpoint_create()
    append(2)
    rewrite(7, {"i": 7})
    call_command("audit", "verify", "--no-progress")  # nothing signed covers seq 7 yet


def test_checkpoint_kept_outside_the_database_catches_a_rewrite_with_deleted_checkpoints(tmp_path):
    append(6)
    note_file = tmp_path / "checkpoint-6.txt"
    note_file.write_text(checkpoints.checkpoint_create().note, encoding="utf-8")
    rewrite(2, {"i": 42})
    with guard_off("checkpoint") as cursor:
        cursor.execute("DELETE FROM audit_checkpoint")
    # The journal beside the signing key still records the signed note...
    with pytest.raises(CommandError, match=r"REWRITTEN: .* events 1\.\.6 differs from the journal entry 1"):
        call_command("audit", "verify", "--no-progress")
    checkpoints.journal_path().unlink()  # ...but whoever runs the server can remove it too
    call_command("audit", "verify", "--no-progress")  # no checkpoint left in the database
    with pytest.raises(CommandError, match=r"REWRITTEN: .* events 1\.\.6 differs from the checkpoint file"):
        call_command("audit", "verify", "--no-progress", "--checkpoint", str(note_file))


def test_forged_checkpoint_row_is_refused_by_verify():
    append(3)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate()
    body = checkpoints.checkpoint_body(settings.AUDIT_LOG_ORIGIN, 3, merkle.root_from_leaves(_leaves()))
    forged = note_sign(body, name=settings.AUDIT_LOG_ORIGIN, sign=other.sign,
                       public_key=other.public_key().public_bytes_raw())
    Checkpoint.objects.create(tree_size=3, root_hash="00" * 32, note=forged,
                              created_at="2026-11-22T00:00:00Z")
    with pytest.raises(CommandError, match="checkpoint INVALID: kept checkpoint at tree size 3"):
        call_command("audit", "verify", "--no-progress")


def test_filling_refuses_a_broken_chain():
    append(4)
    with guard_off() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor = 'mallory' WHERE seq = 3")
    with pytest.raises(checkpoints.LogInconsistent, match="broken at seq 3"):
        checkpoints.nodes_fill()
    with pytest.raises(CommandError, match="checkpoint refused"):
        call_command("audit", "checkpoint")


def test_proofs_refuse_a_log_that_no_longer_matches_its_checkpoint():
    append(5)
    checkpoints.checkpoint_create()
    rewrite(5, {"i": 500})
    with pytest.raises(checkpoints.LogInconsistent, match="no longer matches its signed checkpoint"):
        checkpoints.inclusion_proof(seq=5)


def test_proof_parameters_are_checked():
    append(4)
    with pytest.raises(checkpoints.NotFoundError):
        checkpoints.inclusion_proof(seq=1)
    checkpoints.checkpoint_create()
    with pytest.raises(checkpoints.DomainError, match="only 4 events"):
        checkpoints.inclusion_proof(seq=1, tree_size=5)
    with pytest.raises(checkpoints.DomainError, match="not in a tree of size 3"):
        checkpoints.inclusion_proof(seq=4, tree_size=3)
    with pytest.raises(checkpoints.DomainError, match="not between 0 and 4"):
        checkpoints.consistency_proof(first=5)
