"""The public record of a fixed-price drawing and its recomputation (docs/smallworks.md, "Drawing record").

`drawing_public_record(drawing)` is what `GET /api/v1/fixed-price/projects/<id>/drawing` and the page
publish to anyone once the drawing is drawn: the commit event (canonical JSON, the entropy is its leaf
hash), the seed, the pool (organisation id, name, USCC, ascending by id), the sequence and its outcomes.
`record_recompute(record)` re-runs it with the expert draw's sampler (experts/sampler.py); an outsider
re-implements both from docs/smallworks.md (tests/smallworks/test_outsider.py does, importing nothing
of this code).
"""

from __future__ import annotations

from typing import Any

from audit.canonical import canonical_bytes
from audit.models import AuditEvent
from experts import sampler
from experts.publication import RecordMismatch, record_commit_verify
from smallworks.models import Drawing

FORMAT = "ptrade-fixed-price-drawing"
VERSION = 1


def drawing_public_record(drawing: Drawing) -> dict[str, Any]:
    commit = AuditEvent.objects.get(seq=drawing.commit_seq)
    project = drawing.project
    return {
        "format": FORMAT, "version": VERSION, "project": project.pk, "code": project.code,
        "algorithm": drawing.algorithm, "line": 0,
        "seed": drawing.seed_revealed, "seed_sha256": drawing.seed_sha256, "entropy": drawing.entropy,
        "commit_seq": drawing.commit_seq, "commit_event": canonical_bytes(commit.as_dict()).decode("utf-8"),
        "pool_sha256": drawing.pool_sha256, "pool": commit.data["pool"], "request": commit.data["request"],
        "steps": drawing.steps, "words": drawing.words,
        "sequence": [{"position": p.position, "organisation": p.organisation_id, "outcome": p.status}
                     for p in drawing.picks.order_by("position")],
    }


def sequence_for(seed: bytes, entropy: bytes, pool: list[int], n: int) -> list[int]:
    """The first `n` outputs of the drawing's stream over `pool` (ascending organisation ids)."""
    shuffle = sampler.Shuffle(sampler.stream_key(seed, entropy), 0, pool)
    out = []
    for _ in range(n):
        org = shuffle.next()
        if org is None:
            break
        out.append(org)
    return out




def record_recompute(record: dict[str, Any]) -> list[int]:
    """Re-run the drawing from its public record alone; returns the sequence of organisation ids."""
    def need(cond: bool, message: str) -> None:
        if not cond:
            raise RecordMismatch(message)

    commit, seed, entropy = record_commit_verify(record)
    pool = [p["organisation"] for p in commit["data"]["pool"]]
    need(pool == sorted(set(pool)), "the pool is not ascending without repeats")
    need(sampler.pool_digest([pool]) == commit["data"]["pool_sha256"], "the pool does not hash to its digest")
    shuffle = sampler.Shuffle(sampler.stream_key(seed, entropy), 0, pool)
    out = []
    for row in record["sequence"]:
        org = shuffle.next()
        need(org == row["organisation"], f"position {row['position']}: the stream gives {org}")
        out.append(org)
    need((shuffle.steps, shuffle.words) == (record["steps"], record["words"]), "the stream position differs")
    return out
