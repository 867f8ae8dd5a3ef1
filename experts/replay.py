"""Replaying a draw: recompute the random sequence from the committed data and compare.

Checks, in order (docs/experts.md, "Verifying a draw"):
1. the commit event exists at `commit_seq`, is a valid chain link (its hash recomputed from its
   canonical bytes), its hash is the draw's entropy, and it commits to the stored pool and seed hashes;
2. the stored eligible lists hash to the committed pool digest;
3. the seed (revealed in `expert_draw.seed_revealed`, or — supervisors, before the reveal — the sealed
   one) hashes to the committed seed hash;
4. running the sampler from (seed, entropy) over the stored lists yields exactly the stored sequence:
   every row's expert and stream position, in `seq` order, a repeated expert recorded as a skipped
   duplicate and only then, and each line's saved stream position;
5. the first drawn members and reserves of each line follow the drawing order;
6. the drawn and refill events carry, in the same order, the identity hashes of the stored rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.canonical import dumps
from audit.models import AuditEvent
from audit.services import leaf_hash
from experts import sampler
from experts.identity import expert_identity_hash, seed_unseal
from experts.models import Assignment, AssignmentStatus, Draw, DrawnAs


@dataclass
class ReplayRow:
    seq: int
    line: int
    position: int
    expected: int | None
    stored: int
    status: str
    skip_reason: str
    seat: int | None

    @property
    def ok(self) -> bool:
        return self.expected == self.stored


@dataclass
class ReplayResult:
    draw: Draw
    seed_source: str = ""
    problems: list[str] = field(default_factory=list)
    rows: list[ReplayRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def panel(self) -> list[ReplayRow]:
        return [r for r in self.rows if r.status == AssignmentStatus.ACCEPTED]


def _revealed_seed(draw: Draw) -> bytes | None:
    event = (AuditEvent.objects.filter(object=f"experts.draw:{draw.pk}", action="expert_draw.seed_revealed")
             .order_by("seq").first())
    if event is None:
        return None
    return bytes.fromhex(event.data["seed_hex"])


def draw_replay(draw: Draw, *, require_revealed: bool = False) -> ReplayResult:
    result = ReplayResult(draw=draw)
    problems = result.problems
    # 1. the commitment
    commit = AuditEvent.objects.filter(seq=draw.commit_seq).first() if draw.commit_seq else None
    if commit is None or commit.action != "expert_draw.committed" or commit.object != f"experts.draw:{draw.pk}":
        problems.append("commit event missing")
        return result
    if leaf_hash(dumps(commit.as_dict())) != commit.hash:
        problems.append(f"commit event #{commit.seq} does not hash to its stored hash")
    if commit.hash != draw.entropy:
        problems.append("the draw's entropy is not the commit event's hash")
    if commit.data.get("pool_sha256") != draw.pool_sha256 or commit.data.get("seed_sha256") != draw.seed_sha256:
        problems.append("the draw's pool or seed hash differs from the commit event")
    # 2. the pool
    lines = list(draw.lines.order_by("index"))
    pools = [sampler.decode_ids(line.pool_ids) for line in lines]
    if sampler.pool_digest(pools) != commit.data.get("pool_sha256"):
        problems.append("the stored eligible pool does not match the committed pool hash")
    if [len(p) for p in pools] != commit.data.get("pool_sizes"):
        problems.append("the stored pool sizes differ from the commit event")
    # 3. the seed
    seed = _revealed_seed(draw)
    result.seed_source = "revealed"
    if seed is None:
        if require_revealed:
            problems.append("the seed has not been revealed yet")
            return result
        seed, result.seed_source = seed_unseal(draw.seed_sealed, draw.pk), "sealed"
    if sampler.seed_commitment(seed) != commit.data.get("seed_sha256"):
        problems.append("the seed does not match the committed seed hash")
        return result
    # 4. the sequence
    key = sampler.stream_key(seed, bytes.fromhex(commit.hash))
    shuffles = [sampler.Shuffle(key, line.index, pool) for line, pool in zip(lines, pools, strict=True)]
    by_pk = {line.pk: line for line in lines}
    seen: set[int] = set()
    rows = list(Assignment.objects.filter(draw=draw).order_by("seq"))
    for expected_seq, row in enumerate(rows, start=1):
        line = by_pk[row.line_id]
        shuffle = shuffles[line.index]
        position = shuffle.steps
        expected = shuffle.next()
        result.rows.append(ReplayRow(row.seq, line.index, row.position, expected, row.expert_id, row.status,
                                     row.skip_reason, row.seat))
        if row.seq != expected_seq:
            problems.append(f"seq {row.seq}: gap in the sequence (expected {expected_seq})")
        if expected != row.expert_id or position != row.position:
            problems.append(f"seq {row.seq}: line {line.index} step {position} draws expert {expected}, "
                            f"stored expert {row.expert_id} at step {row.position}")
        duplicate = row.expert_id in seen
        if duplicate != (row.skip_reason == "duplicate"):
            problems.append(f"seq {row.seq}: duplicate rule not followed")
        seen.add(row.expert_id)
    for line, shuffle in zip(lines, shuffles, strict=True):
        if (shuffle.steps, shuffle.words) != (line.steps, line.words):
            problems.append(f"line {line.index}: stored stream position ({line.steps}, {line.words}) differs from "
                            f"the replay ({shuffle.steps}, {shuffle.words})")
    # 5. members first, then reserves, in drawing order
    for line in lines:
        usable = [r for r in rows if r.line_id == line.pk and r.initial and r.skip_reason == ""]
        roles = [r.drawn_as for r in usable]
        members = min(line.count, len(usable))
        if roles != [DrawnAs.MEMBER] * members + [DrawnAs.RESERVE] * (len(usable) - members):
            problems.append(f"line {line.index}: members and reserves are not in drawing order")
    # 6. the sealed events agree with the stored rows
    logged: list[tuple[int, str]] = []
    for event in AuditEvent.objects.filter(object=f"experts.draw:{draw.pk}",
                                           action__in=["expert_draw.drawn", "expert_draw.seat_refilled"]):
        logged += [(e["seq"], e["expert_hash"]) for e in event.data.get("sequence", [])]
    stored = [(r.seq, expert_identity_hash(draw.identity_salt, r.expert_id)) for r in rows]
    if logged != stored:
        problems.append("the audit events' sequence of identity hashes differs from the stored rows")
    return result
