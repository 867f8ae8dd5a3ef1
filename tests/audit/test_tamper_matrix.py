"""The tamper matrix (issue 14): each way of rewriting history, alone and with the checkpoint
and Merkle node rows deleted, tried as the runtime role and as a DML-only role (refused by
the database), then done as the owner (who can lift the guard) and caught by `audit verify`
with a held checkpoint, by the offline verifier with a held checkpoint, and by the platform
itself, which signs nothing over the forged history."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from audit import checkpoints, merkle
from audit.models import AuditEvent, Checkpoint
from supervision.live import supervision_warnings
from tests.audit.roles import DML, RUNTIME, try_sql
from tests.audit.tamper import CASES, WIPE_PROOFS, append, forged_bundle, owner_run
from tests.audit.test_export import verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MATRIX = [(case, wipe) for case in sorted(CASES) for wipe in (False, True)]


def _history(tmp_path):
    append(4)
    older = tmp_path / "held-4.txt"
    older.write_text(checkpoints.checkpoint_create().note, encoding="utf-8")
    append(8)
    held = tmp_path / "held-12.txt"
    held.write_text(checkpoints.checkpoint_create().note, encoding="utf-8")
    return held, older


def _snapshot():
    return (list(AuditEvent.objects.order_by("seq").values_list("seq", "hash", "actor", "data")),
            list(Checkpoint.objects.order_by("tree_size").values_list("tree_size", "note")))


@pytest.mark.parametrize(("case", "wipe"), MATRIX, ids=[f"{c}{'+wipe_proofs' if w else ''}" for c, w in MATRIX])
def test_tamper_matrix(test_roles, tmp_path, case, wipe):
    held, older = _history(tmp_path)
    genuine = [bytes.fromhex(h) for h in AuditEvent.objects.order_by("seq").values_list("hash", flat=True)]
    statements = CASES[case]() + (WIPE_PROOFS if wipe else [])

    # 1. Refused by the database for the runtime role and a DML-only role: nothing changes.
    before = _snapshot()
    for role in (RUNTIME, DML):
        outcome = try_sql(role, "BEGIN", *statements, "COMMIT")
        assert outcome.startswith("refused"), (role, outcome)
        assert _snapshot() == before

    # 2. The owner can lift the guard; then every verifier holding a checkpoint catches it.
    owner_run(statements)
    with pytest.raises(CommandError, match="REWRITTEN|TRUNCATED|BROKEN"):
        call_command("audit", "verify", "--no-progress", "--checkpoint", str(held))
    bundle = tmp_path / "forged.jsonl"
    forged_bundle(bundle)
    result = verify(bundle, "--checkpoint", str(held), "--checkpoint", str(older))
    assert result.returncode == 1 and "FAILED" in result.stderr, result.stdout + result.stderr

    # 3. The platform signs nothing over the forged history, now or after the log grows.
    signed = set(Checkpoint.objects.values_list("note", flat=True)) | set(checkpoints.journal_notes())
    for _ in range(2):
        try:
            checkpoint = checkpoints.checkpoint_create()
        except checkpoints.SigningRefused:
            continue
        finally:
            append(1)
        # Only the edit of one event, with the node store intact, leaves signing possible: the
        # signature then covers the genuine history (the signed prefix), never the edit.
        assert case == "edit_one_event" and not wipe
        size = checkpoint.tree_size
        if checkpoint.note not in signed:
            leaves = genuine + [bytes.fromhex(h) for h in AuditEvent.objects.filter(seq__gt=len(genuine),
                                seq__lte=size).order_by("seq").values_list("hash", flat=True)]
            assert bytes.fromhex(checkpoint.root_hash) == merkle.root_from_leaves(leaves)
    if case != "edit_one_event" or wipe:
        new = set(checkpoints.journal_notes()) - signed
        assert not new
        warnings = [w for w in supervision_warnings() if w.kind == "audit_checkpoint_refused"]
        assert warnings and all(w.level == "red" for w in warnings)
