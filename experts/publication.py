"""The public record of a draw, once its panel is unsealed (docs/experts.md, "Public draw record").

`draw_public_record(draw)` is what `GET /api/v1/draws/<id>/record` and the public page
`/draws/<id>/record/` publish to anyone: the seed, the commit event (canonical JSON) with an
inclusion proof to a signed checkpoint, the pool snapshot (eligible ids of each line, ascending),
the sequence of outputs and the panel. `record_recompute(record)` re-runs the draw from that
record only (pure; the offline kit `audit/verifier/ptrade_draw_verify.py` does the same without
any platform code).

What it discloses: expert ids of the pool snapshot and the sequence (pool ids, the numbers the
commitment is made over), the names of the members only (public once the panel is revealed,
招标投标法 Art 37), skip reasons collapsed to "duplicate" / "unavailable" (avoidance facts stay
with supervisors), and each output's outcome (accepted, declined, timed out, left, released).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils.translation import gettext as _

from audit import checkpoints
from audit.canonical import canonical_bytes
from audit.models import AuditEvent
from config.errors import NotFoundError
from experts import sampler
from experts.models import AssignmentStatus, Draw, DrawStatus

FORMAT = "ptrade-draw-record"
VERSION = 1
S = AssignmentStatus


def draw_is_public(draw: Draw) -> bool:
    """Public once the seed is published: the panel was revealed (which publishes it at once), or a
    supervisor published the seed of a cancelled draw."""
    return bool(draw.seed_revealed_at and (draw.revealed_at or draw.status == DrawStatus.CANCELLED))


def _outcome(status: str) -> str:
    return "skipped" if status == S.SKIPPED else status


def draw_public_record(draw: Draw) -> dict[str, Any]:
    """The public record (see the module docstring); only for a draw that `draw_is_public`."""
    if not draw_is_public(draw):
        raise NotFoundError(_("This draw's record is not published yet."))
    commit = AuditEvent.objects.get(seq=draw.commit_seq)
    lines = list(draw.lines.order_by("index"))
    rows = list(draw.assignments.select_related("line", "expert").order_by("seq"))
    members = [r for r in rows if r.status == S.ACCEPTED] if draw.revealed_at else []
    proof: dict[str, Any] | None = None
    latest = checkpoints.checkpoint_latest()
    if latest is not None and latest.tree_size >= draw.commit_seq:
        inc = checkpoints.inclusion_proof(seq=draw.commit_seq, tree_size=latest.tree_size)
        proof = {"leaf_index": inc.leaf_index, "tree_size": inc.tree_size,
                 "hashes": [h.hex() for h in inc.hashes], "checkpoint": latest.note}
    return {
        "format": FORMAT, "version": VERSION,
        "draw": draw.pk, "tender": draw.tender_id, "lot": draw.lot_id, "status": draw.status,
        "algorithm": draw.algorithm,
        "seed": draw.seed_revealed, "seed_sha256": draw.seed_sha256, "entropy": draw.entropy,
        "pool_sha256": draw.pool_sha256,
        "commit_seq": draw.commit_seq,
        "commit_event": canonical_bytes(commit.as_dict()).decode("utf-8"),
        "commit_proof": proof,
        "revealed_at": draw.revealed_at, "seed_revealed_at": draw.seed_revealed_at,
        "lines": [{"index": line.index, "specialty": line.specialty_id, "category": line.category,
                   "count": line.count, "reserves": line.reserves, "steps": line.steps, "words": line.words,
                   "pool": sampler.decode_ids(line.pool_ids)} for line in lines],
        "sequence": [{"seq": r.seq, "line": r.line.index, "position": r.position, "expert": r.expert_id,
                      "initial": r.initial, "drawn_as": r.drawn_as, "seat": r.seat, "outcome": _outcome(r.status),
                      "skip": ("duplicate" if r.skip_reason == "duplicate" else "unavailable")
                      if r.status == S.SKIPPED else None} for r in rows],
        "members": [{"seat": m.seat, "line": m.line.index, "expert": m.expert_id, "name": m.expert.name}
                    for m in sorted(members, key=lambda m: m.seat or 0)],
    }


class RecordMismatch(ValueError):
    pass


def record_commit_verify(record: dict[str, Any]) -> tuple[dict[str, Any], bytes, bytes]:
    """The checks every public drawing record shares (expert draws, fixed-price drawings): the seed hashes
    to its commitment, the entropy is the commit event's leaf hash, the commit event commits to that seed.
    Returns the parsed commit event, the seed and the entropy; raises RecordMismatch."""
    seed, entropy = bytes.fromhex(record["seed"]), bytes.fromhex(record["entropy"])
    if hashlib.sha256(seed).hexdigest() != record["seed_sha256"]:
        raise RecordMismatch("the seed does not hash to its commitment")
    text = record["commit_event"].encode("utf-8")
    if hashlib.sha256(b"\x00" + text).digest() != entropy:
        raise RecordMismatch("the entropy is not the commit event's hash")
    commit = json.loads(text)
    if commit["data"]["seed_sha256"] != record["seed_sha256"]:
        raise RecordMismatch("the commit event commits to another seed")
    return commit, seed, entropy


def record_recompute(record: dict[str, Any]) -> dict[str, Any]:
    """Re-run the draw from its public record alone (no database); raises RecordMismatch.

    Returns {"panel": {seat: expert}, "initial": {line: {"members": [...], "reserves": [...]}}}."""
    def need(cond: bool, message: str) -> None:
        if not cond:
            raise RecordMismatch(message)

    commit, seed, entropy = record_commit_verify(record)
    need(commit["data"]["pool_sha256"] == record["pool_sha256"], "the commit event commits to another pool")
    lines = record["lines"]
    pools = [line["pool"] for line in lines]
    need(all(p == sorted(set(p)) for p in pools), "a pool is not sorted ascending without repeats")
    need(sampler.pool_digest(pools) == record["pool_sha256"], "the pools do not hash to the committed digest")
    requested = commit["data"]["request"]["lines"]
    need([(r["count"], r["reserves"]) for r in requested] == [(x["count"], x["reserves"]) for x in lines],
         "the lines differ from the committed request")
    key = sampler.stream_key(seed, entropy)
    shuffles = [sampler.Shuffle(key, i, ids) for i, ids in enumerate(pools)]
    seen: set[int] = set()
    usable: dict[int, list[dict]] = {i: [] for i in range(len(lines))}
    last_seq = 0
    for row in record["sequence"]:
        need(row["seq"] > last_seq, "the sequence is not in ascending seq order")
        last_seq = row["seq"]
        shuffle = shuffles[row["line"]]
        position = shuffle.steps
        expert = shuffle.next()
        need(expert == row["expert"] and position == row["position"],
             f"seq {row['seq']}: the stream gives expert {expert} at step {position}")
        duplicate = expert in seen
        need(duplicate == (row["skip"] == "duplicate"), f"seq {row['seq']}: the duplicate rule is not followed")
        seen.add(expert)
        if row["initial"] and row["skip"] is None:
            usable[row["line"]].append(row)
    for i, (line, shuffle) in enumerate(zip(lines, shuffles, strict=True)):
        need((shuffle.steps, shuffle.words) == (line["steps"], line["words"]), f"line {i}: stream position differs")
    initial: dict[int, dict[str, list[int]]] = {}
    seat = 0
    for i, line in enumerate(lines):
        picks = usable[i]
        need(len(picks) <= line["count"] + line["reserves"], f"line {i}: more initial picks than members + reserves")
        for n, row in enumerate(picks):
            want = "member" if n < line["count"] else "reserve"
            need(row["drawn_as"] == want, f"seq {row['seq']}: should be a {want}")
            if want == "member":
                need(row["seat"] == seat + n + 1, f"seq {row['seq']}: should take seat {seat + n + 1}")
        if len(picks) < line["count"] + line["reserves"]:
            need(line["steps"] == len(line["pool"]), f"line {i}: the initial draw stopped before its pool ran out")
        initial[i] = {"members": [r["expert"] for r in picks[:line["count"]]],
                      "reserves": [r["expert"] for r in picks[line["count"]:]]}
        seat += line["count"]
    panel = {r["seat"]: r["expert"] for r in record["sequence"] if r["outcome"] == "accepted"}
    need(all(r["skip"] is None for r in record["sequence"] if r["outcome"] == "accepted"),
         "a skipped output sits on the panel")
    if record["members"]:
        need({m["seat"]: m["expert"] for m in record["members"]} == panel, "the members differ from the sequence")
    return {"panel": panel, "initial": initial}
