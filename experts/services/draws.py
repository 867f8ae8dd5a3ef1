"""Drawing a committee: commitment, verifiable sampling, seats, redraws, reveal (docs/experts.md).

Two transactions per draw, on purpose:

1. `draw_request` checks the request, computes the eligible pool (experts/avoidance.py), seals a
   fresh 32-byte seed and writes the commit event `expert_draw.committed` (request, SHA-256 of
   the pool, SHA-256 of the seed, excluded counts per reason). It commits. The commit event's
   hash is the chain head right after it: the public entropy, unknown before the commitment.
2. `draw_sample` derives the line streams from (seed, entropy) (experts/sampler.py), takes the
   members and reserves of every line, calls the members and writes `expert_draw.drawn`.

`draw_start` runs both. If the process dies in between, the scheduled step `expert_draw_sample`
finishes the draw: a committed draw is always drawn, never committed again.

Every later change of a seat (decline, time-out, leave) locks the draw and refills the seat:
first the line's reserves in drawing order, then the next output of the line's stream.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.models import AuditEvent
from audit.sealed import sealed_record
from audit.services import audit_record
from config.errors import StateConflict
from credit.rules import RecordKind
from credit.services import record_propose
from experts import avoidance, sampler
from experts.identity import expert_identity_hash, new_salt, seed_seal, seed_unseal
from experts.models import (
    ALGORITHM,
    Assignment,
    AssignmentStatus,
    Draw,
    DrawLine,
    DrawnAs,
    DrawStatus,
    DrawWarning,
    PanelRecord,
    WarningKind,
)
from experts.services.notifications import call_experts
from experts.services.validation import LineSpec, normalize_regions, resolve_lines, validate_request
from trading import clock
from trading.models import Lot, Tender
from trading.services.scheduling import step_schedule

SAMPLE_STEP = "expert_draw_sample"
SAMPLE_SAFETY_DELAY = timedelta(minutes=2)
_DRAW_LOCK = 0x70747261646578  # "ptradex": serializes the sampling of all draws (bookings)
S = AssignmentStatus


def _authorize(actor, action: str, obj) -> None:
    if actor != "system":
        authorize(actor, action, obj)


def _serialize_draws() -> None:
    """One drawing transaction at a time, so that an expert is never booked twice at the same time.
    (SQLite transactions are already serialized: BEGIN IMMEDIATE.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DRAW_LOCK])


def lock_draw(draw_id: int) -> Draw:
    _serialize_draws()
    return Draw.objects.select_for_update().select_related("tender", "lot").get(pk=draw_id)


def _hash(draw: Draw, expert_id: int) -> str:
    return expert_identity_hash(draw.identity_salt, expert_id)


def _base(draw: Draw) -> dict:
    return {"tender": draw.tender_id, "lot": draw.lot_id, "draw": draw.pk}


# --- 1. request and commitment ----------------------------------------------------------------

@transaction.atomic
def draw_request(*, actor, lot: Lot, evaluation_start: datetime, evaluation_end: datetime, committee_size: int,
                 lines, owner_representatives: int = 0, place: str = "", remote: bool = False,
                 regions=()) -> Draw:
    """Check the request, compute the eligible pool and commit to it and to a secret seed."""
    tender = Tender.objects.select_for_update().get(pk=lot.tender_id)
    _authorize(actor, "draw.create", tender)
    specs: list[LineSpec] = resolve_lines(lines)
    regions = normalize_regions(regions)
    validate_request(tender=tender, lot=lot, committee_size=committee_size,
                     owner_representatives=owner_representatives, lines=specs, evaluation_start=evaluation_start,
                     evaluation_end=evaluation_end, place=place, remote=remote)
    open_draw = (Draw.objects.filter(lot=lot, seed_revealed_at__isnull=True)
                 .exclude(status=DrawStatus.CANCELLED).first())
    if open_draw is not None:
        raise StateConflict(_("Draw %(n)s is already open for this lot; cancel it before drawing again.")
                            % {"n": open_draw.pk},
                            code="draw_open")
    seed = secrets.token_bytes(32)
    draw = Draw.objects.create(
        tender=tender, lot=lot, requested_by=actor, evaluation_start=evaluation_start,
        evaluation_end=evaluation_end, place=place.strip(), remote=remote, committee_size=committee_size,
        owner_representatives=owner_representatives, regions=regions, status=DrawStatus.COMMITTED,
        algorithm=ALGORITHM, seed_sha256=sampler.seed_commitment(seed), seed_sealed=b"",
        pool_sha256="", identity_salt=new_salt())
    ctx = avoidance.context_for(draw)
    found = avoidance.eligibility(ctx, [(spec.specialty.code, regions) for spec in specs])
    DrawLine.objects.bulk_create([
        DrawLine(draw=draw, index=i, specialty=spec.specialty, category=spec.specialty.category, count=spec.count,
                 reserves=spec.reserves, pool_size=len(ids), pool_ids=sampler.encode_ids(ids))
        for i, (spec, ids) in enumerate(zip(specs, found.lines, strict=True))])
    draw.seed_sealed = seed_seal(seed, draw.pk)
    draw.pool_sha256 = sampler.pool_digest(found.lines)
    draw.pool_size = found.eligible
    draw.bidders_count = len(ctx.bidder_ids)
    draw.excluded = {**found.excluded, "total": found.excluded_total, "candidates": found.candidates}
    # Before the bid deadline the number of registered bidders and the exclusions they cause are
    # sealed facts (电子招标投标办法 Art 21): a sealed event carries them, opened at the deadline.
    sealed = tender.audit_seal_holds
    counts = {"bidders": draw.bidders_count, "excluded": draw.excluded}
    if sealed:
        sealed_record(tender=tender, actor="system", action="expert_draw.exclusions_counted", obj=draw,
                      data={**_base(draw), **counts})
    event = audit_record(actor=actor, action="expert_draw.committed", obj=draw, data={
        **_base(draw), "algorithm": ALGORITHM,
        "request": {
            "evaluation_start": evaluation_start, "evaluation_end": evaluation_end, "remote": remote,
            "place": draw.place, "committee_size": committee_size, "owner_representatives": owner_representatives,
            "regions": regions,
            "lines": [{"index": i, "specialty": s.specialty.code, "category": s.specialty.category,
                       "count": s.count, "reserves": s.reserves} for i, s in enumerate(specs)],
        },
        **({"counts_sealed": True} if sealed else counts),
        "pool_sha256": draw.pool_sha256,
        "pool_sizes": [len(ids) for ids in found.lines],
        "seed_sha256": draw.seed_sha256,
    })
    draw.commit_seq, draw.entropy = event.seq, event.hash
    draw.eligible_lists = found.lines  # kept in memory for draw_start's sampling transaction
    draw.save(update_fields=["seed_sealed", "pool_sha256", "pool_size", "bidders_count", "excluded", "commit_seq",
                             "entropy", "updated_at"])

    step_schedule(kind=SAMPLE_STEP, subject=f"experts.draw:{draw.pk}", due_at=clock.now() + SAMPLE_SAFETY_DELAY,
                  tender=tender, lot=lot)
    return draw


# --- 2. sampling ----------------------------------------------------------------------------

@dataclass
class Sequencer:
    """Continues a draw's random sequence: the line shuffles, the next `seq`, the experts already drawn."""

    draw: Draw
    key: bytes = b""
    seq: int = 0
    taken: set[int] = field(default_factory=set)
    rows: list[Assignment] = field(default_factory=list)
    _shuffles: dict[int, sampler.Shuffle] = field(default_factory=dict)
    _ctx: avoidance.Context | None = None

    pools: dict[int, list[int]] = field(default_factory=dict)  # line index → eligible ids, when already in memory

    @classmethod
    def resume(cls, draw: Draw, pools: dict[int, list[int]] | None = None) -> Sequencer:
        seed = seed_unseal(draw.seed_sealed, draw.pk)
        seq = cls(draw=draw, key=sampler.stream_key(seed, bytes.fromhex(draw.entropy)), pools=pools or {})
        existing = list(draw.assignments.values_list("seq", "expert_id"))
        seq.seq = max((s for s, _e in existing), default=0)
        seq.taken = {e for _s, e in existing}
        return seq

    @property
    def ctx(self) -> avoidance.Context:
        if self._ctx is None:
            self._ctx = avoidance.context_for(self.draw)
        return self._ctx

    def shuffle(self, line: DrawLine) -> sampler.Shuffle:
        shuffle = self._shuffles.get(line.pk)
        if shuffle is None:
            ids = self.pools.get(line.index)
            if ids is None:
                ids = sampler.decode_ids(line.pool_ids)
            shuffle = sampler.Shuffle(self.key, line.index, ids)
            shuffle.advance(line.steps)
            if shuffle.words != line.words:
                raise RuntimeError(f"draw {self.draw.pk} line {line.index}: stored stream position is inconsistent")
            self._shuffles[line.pk] = shuffle
        return shuffle

    def _row(self, line: DrawLine, expert_id: int, position: int, initial: bool) -> Assignment:
        self.seq += 1
        row = Assignment(draw=self.draw, line=line, expert_id=expert_id, seq=self.seq, position=position,
                         initial=initial, status=S.RESERVE, identity_hash=_hash(self.draw, expert_id),
                         response_nonce=secrets.token_hex(16))
        self.rows.append(row)
        return row

    def take(self, wanted: list[tuple[DrawLine, int]], *, initial: bool) -> dict[int, list[Assignment]]:
        """For each (line, n), the next `n` usable experts of the line (fewer when its pool runs out).

        Each round takes, line by line, as many outputs as are still missing; an expert drawn earlier in
        this draw is recorded as a skipped duplicate at once; then the round's picks are checked against
        avoidance *now* in one query (bookings made since the snapshot, new leaves, ...), and unavailable
        ones are recorded as skipped with the reason. Rounds repeat until every line is served or empty.
        """
        usable: dict[int, list[Assignment]] = {line.pk: [] for line, _n in wanted}
        exhausted: set[int] = set()
        while True:
            batch: list[Assignment] = []
            for line, n in wanted:
                shuffle = self.shuffle(line)
                missing = n - len(usable[line.pk])
                taken = 0
                while taken < missing and line.pk not in exhausted:
                    expert_id = shuffle.next()
                    if expert_id is None:
                        exhausted.add(line.pk)
                        break
                    row = self._row(line, expert_id, shuffle.steps - 1, initial)
                    if expert_id in self.taken:
                        row.status, row.skip_reason = S.SKIPPED, "duplicate"
                        continue
                    self.taken.add(expert_id)
                    batch.append(row)
                    taken += 1
                line.steps, line.words = shuffle.steps, shuffle.words
            if not batch:
                return usable
            excluded = avoidance.exclusions(self.ctx, only=[row.expert_id for row in batch])
            for row in batch:
                reason = avoidance.first_reason(row.expert_id, excluded)
                if reason:
                    row.status, row.skip_reason = S.SKIPPED, reason
                else:
                    usable[row.line.pk].append(row)

    def save(self) -> list[Assignment]:
        rows, self.rows = self.rows, []
        Assignment.objects.bulk_create(rows)
        if rows and rows[0].pk is None:  # a backend that does not return ids from bulk inserts
            by_seq = dict(Assignment.objects.filter(draw=self.draw, seq__in=[r.seq for r in rows])
                          .values_list("seq", "pk"))
            for row in rows:
                row.pk = by_seq[row.seq]
        return rows


def _seq_entry(row: Assignment) -> dict:
    return {"seq": row.seq, "line": row.line.index, "position": row.position, "expert_hash": row.identity_hash,
            "status": row.status, "skip_reason": row.skip_reason, "seat": row.seat, "drawn_as": row.drawn_as}


def _positions(lines) -> list[dict]:
    return [{"line": line.index, "steps": line.steps, "words": line.words} for line in lines]


def _warn_exhausted(draw: Draw, line: DrawLine, seats: list[int], now: datetime) -> None:
    draw.exhausted_at = draw.exhausted_at or now
    message = (f"Line {line.index + 1} ({line.specialty_id}): the eligible pool of {line.pool_size} is exhausted; "
               f"{len(seats)} seat(s) unfilled.")
    DrawWarning.objects.create(draw=draw, line=line, kind=WarningKind.POOL_EXHAUSTED, message=message, created_at=now)
    audit_record(actor="system", action="expert_draw.pool_exhausted", obj=draw,
                 data={**_base(draw), "line": line.index, "specialty": line.specialty_id, "unfilled_seats": seats,
                       "pool_size": line.pool_size})


def refresh_status(draw: Draw, now: datetime) -> None:
    if draw.status == DrawStatus.CANCELLED:
        return
    accepted = draw.assignments.filter(status=S.ACCEPTED).count()
    if accepted >= draw.expert_seats:
        status = DrawStatus.COMPLETE
        draw.completed_at = draw.completed_at or now
    elif draw.exhausted_at:
        status = DrawStatus.EXHAUSTED
    else:
        status = DrawStatus.CONFIRMING
    if status != draw.status:
        draw.status = status
        draw.save(update_fields=["status", "completed_at", "exhausted_at", "updated_at"])


@transaction.atomic
def draw_sample(*, draw_id: int, pools: list[list[int]] | None = None) -> Draw:
    """Draw the members and reserves of a committed draw (idempotent: a drawn draw is returned as is).

    `pools`: the committed eligible lists when the caller still has them in memory (draw_start);
    otherwise they are read back from the stored snapshot."""
    draw = lock_draw(draw_id)
    if draw.status != DrawStatus.COMMITTED:
        return draw
    now = clock.now()
    sequencer = Sequencer.resume(draw, dict(enumerate(pools)) if pools is not None else None)
    lines = list(draw.lines.select_related("specialty").order_by("index"))
    members: list[tuple[Assignment, int]] = []
    short: list[tuple[DrawLine, list[int]]] = []
    picked = sequencer.take([(line, line.count + line.reserves) for line in lines], initial=True)
    offset = 0
    for line in lines:
        usable = picked[line.pk]
        seats = list(range(offset + 1, offset + line.count + 1))
        for row, seat in zip(usable, seats, strict=False):
            row.drawn_as, row.seat = DrawnAs.MEMBER, seat
            members.append((row, seat))
        for row in usable[line.count:]:
            row.drawn_as = DrawnAs.RESERVE
        if len(usable) < line.count:
            short.append((line, seats[len(usable):]))
        offset += line.count
    rows = sequencer.save()
    DrawLine.objects.bulk_update(lines, ["steps", "words"])
    call_experts([row for row, _seat in members], now=now, draw=draw)
    draw.drawn_at = now
    draw.status = DrawStatus.CONFIRMING
    for line, seats in short:
        _warn_exhausted(draw, line, seats, now)
    draw.save(update_fields=["drawn_at", "status", "exhausted_at", "updated_at"])
    refresh_status(draw, now)
    audit_record(actor="system", action="expert_draw.drawn", obj=draw, data={
        **_base(draw), "entropy": draw.entropy, "commit_seq": draw.commit_seq,
        "sequence": [_seq_entry(r) for r in rows], "positions": _positions(lines), "status": draw.status})
    return draw


def draw_start(*, actor, lot: Lot, **request) -> Draw:
    """Request, commit and draw: two transactions (see the module docstring)."""
    draw = draw_request(actor=actor, lot=lot, **request)
    return draw_sample(draw_id=draw.pk, pools=getattr(draw, "eligible_lists", None))


# --- seats: refill after a decline, a time-out or a leave ------------------------------------------

def _fill_seat(draw: Draw, line: DrawLine, seat: int, now: datetime, cause: str) -> Assignment | None:
    """Give `seat` to the line's next reserve, else to the next expert of the line's stream."""
    reserves = list(line.assignments.select_for_update().filter(status=S.RESERVE).order_by("seq"))
    if draw.closed and not reserves:
        # The stream is closed (seed public or draw cancelled); reserves drawn before still serve.
        DrawWarning.objects.create(draw=draw, line=line, kind=WarningKind.DRAW_CLOSED, created_at=now,
                                   message=f"Seat {seat} was vacated after the draw was closed; "
                                           "request a supplementary draw.")
        audit_record(actor="system", action="expert_draw.seat_vacant", obj=draw,
                     data={**_base(draw), "seat": seat, "line": line.index, "cause": cause})
        return None
    sequencer = Sequencer.resume(draw)
    skipped: list[Assignment] = []
    chosen: Assignment | None = None
    if reserves:
        excluded = avoidance.exclusions(sequencer.ctx, only=[r.expert_id for r in reserves])
        for reserve in reserves:
            reason = avoidance.first_reason(reserve.expert_id, excluded)
            if reason:
                reserve.status, reserve.skip_reason = S.SKIPPED, reason
                reserve.save(update_fields=["status", "skip_reason", "updated_at"])
                skipped.append(reserve)
                continue
            chosen = reserve
            chosen.promoted_at = now
            break
    drawn: list[Assignment] = []
    if chosen is None and draw.closed:
        DrawWarning.objects.create(draw=draw, line=line, kind=WarningKind.DRAW_CLOSED, created_at=now,
                                   message=f"Seat {seat} was vacated after the draw was closed and no reserve "
                                           "is available; request a supplementary draw.")
        audit_record(actor="system", action="expert_draw.seat_vacant", obj=draw,
                     data={**_base(draw), "seat": seat, "line": line.index, "cause": cause,
                           "skipped_reserves": [_seq_entry(r) for r in skipped]})
        return None
    if chosen is None:
        usable = sequencer.take([(line, 1)], initial=False)[line.pk]
        drawn = sequencer.save()
        line.save(update_fields=["steps", "words"])
        skipped += [r for r in drawn if r.status == S.SKIPPED]
        chosen = usable[0] if usable else None
    if chosen is not None:
        chosen.seat = seat
        call_experts([chosen], now=now, draw=draw)
    audit_record(actor="system", action="expert_draw.seat_refilled", obj=draw, data={
        **_base(draw), "seat": seat, "line": line.index, "cause": cause,
        "by": None if chosen is None else ("reserve" if chosen.drawn_as == DrawnAs.RESERVE else "redraw"),
        "assignment": chosen.pk if chosen else None, "expert_hash": chosen.identity_hash if chosen else None,
        "sequence": [_seq_entry(r) for r in drawn], "skipped_reserves": [_seq_entry(r) for r in skipped
                                                                          if r not in drawn],
        "positions": _positions([line])})
    if chosen is None:
        _warn_exhausted(draw, line, [seat], now)
        draw.save(update_fields=["exhausted_at", "updated_at"])
    return chosen


def _lock_assignment(assignment: Assignment) -> tuple[Draw, Assignment]:
    draw = lock_draw(assignment.draw_id)
    row = Assignment.objects.select_for_update().select_related("line", "expert").get(pk=assignment.pk)
    return draw, row


def _vacate(draw: Draw, row: Assignment, status: str, now: datetime, *, reason: str = "") -> None:
    """Close a booked seat with `status` and refill it."""
    seat = row.seat
    was_reserve = row.status == S.RESERVE
    row.status = status
    if reason:
        row.left_reason = reason[:300]
    row.save(update_fields=["status", "left_reason", "updated_at"])
    PanelRecord.objects.filter(draw=draw, expert_id=row.expert_id, cancelled=False).update(cancelled=True)
    audit_record(actor="system", action=f"expert_assignment.{status}", obj=row,
                 data={**_base(draw), "assignment": row.pk, "seat": seat, "expert_hash": row.identity_hash,
                       "reason": reason[:300]})
    if seat is not None and not was_reserve and draw.status != DrawStatus.CANCELLED:
        _fill_seat(draw, row.line, seat, now, cause=status)
    refresh_status(draw, now)


@transaction.atomic
def assignment_respond(*, actor, assignment: Assignment, accept: bool, via: str) -> Assignment:
    """The expert accepts or declines a call (web page, API, signed link, SMS or voice reply)."""
    _authorize(actor, "assignment.respond", assignment)
    draw, row = _lock_assignment(assignment)
    if row.status != S.NOTIFIED:
        raise StateConflict(_("This call is no longer open (it is %(s)s).") % {"s": row.get_status_display()},
                            code="not_open")
    now = clock.now()
    if row.respond_by and now > row.respond_by:
        raise StateConflict(_("The time limit to answer has passed; the seat goes to another expert."),
                            code="too_late")
    row.responded_at, row.response_via = now, via[:16]
    if not accept:
        row.save(update_fields=["responded_at", "response_via", "updated_at"])
        _vacate(draw, row, S.DECLINED, now)
        return row
    row.status = S.ACCEPTED
    row.save(update_fields=["status", "responded_at", "response_via", "updated_at"])
    PanelRecord.objects.create(expert_id=row.expert_id, tenderer_id=draw.tender.tenderer_id, tender=draw.tender,
                               draw=draw, evaluation_start=draw.evaluation_start)
    refresh_status(draw, now)
    audit_record(actor="system", action="expert_assignment.accepted", obj=row, data={
        **_base(draw), "assignment": row.pk, "seat": row.seat, "expert_hash": row.identity_hash, "via": via,
        "draw_status": draw.status})
    return row


@transaction.atomic
def assignment_time_out(*, assignment_id: int) -> str:
    """The confirmation time limit passed without an answer (step handler; idempotent)."""
    draw_id = Assignment.objects.values_list("draw_id", flat=True).get(pk=assignment_id)
    draw, row = _lock_assignment(Assignment(pk=assignment_id, draw_id=draw_id))
    if row.status != S.NOTIFIED:
        return f"skipped: {row.status}"
    now = clock.now()
    if row.respond_by and now < row.respond_by:
        return "early"
    _vacate(draw, row, S.TIMED_OUT, now)
    return "timed out"


@transaction.atomic
def assignment_leave(*, actor, assignment: Assignment, reason: str) -> Assignment:
    """A called, accepted or reserve expert leaves the panel (the expert, a supervisor, or the system
    when the expert is suspended or takes leave). A vacated seat is refilled."""
    _authorize(actor, "assignment.leave", assignment)
    draw, row = _lock_assignment(assignment)
    if row.status not in (S.NOTIFIED, S.ACCEPTED, S.RESERVE):
        raise StateConflict(_("This assignment is %(s)s: nothing to leave.") % {"s": row.get_status_display()},
                            code="not_open")
    _vacate(draw, row, S.LEFT, clock.now(), reason=reason or "left")
    return row


@transaction.atomic
def assignment_no_show(*, actor, assignment: Assignment, note: str = "") -> Assignment:
    """A supervisor records that an accepted expert did not appear (or left without cause): the seat is
    vacated and refilled as for a leave, and a bad-conduct record is proposed (docs/credit.md)."""
    _authorize(actor, "draw.supervise", assignment.draw)
    draw, row = _lock_assignment(assignment)
    if row.status != S.ACCEPTED:
        raise StateConflict(_("Only an expert who accepted the call can fail to appear."), code="not_accepted")
    _vacate(draw, row, S.LEFT, clock.now(), reason=f"no_show: {note}".strip(": "))
    event = AuditEvent.objects.filter(action="expert_assignment.left", object=f"experts.assignment:{row.pk}") \
        .order_by("-seq").first()
    record_propose(kind=RecordKind.EXPERT_NO_SHOW, expert_id=row.expert_id, expert_name=row.expert.name,
                   facts=f"{draw.tender.code}: accepted the call for the evaluation of "
                         f"{draw.evaluation_start:%Y-%m-%d %H:%M} and did not appear" + (f" ({note})" if note else ""),
                   evidence_seqs=[event.seq], source_ref=f"experts.assignment:{row.pk}", proposed_by=actor,
                   at=clock.now())
    return row


def assignments_affected(expert_id: int, *, start: datetime | None = None, end: datetime | None = None):
    """Open assignments of an expert in draws not yet evaluated (optionally overlapping [start, end))."""
    qs = Assignment.objects.filter(expert_id=expert_id, status__in=[S.NOTIFIED, S.ACCEPTED, S.RESERVE],
                                   draw__evaluation_end__gt=clock.now()).exclude(draw__status=DrawStatus.CANCELLED)
    if start is not None and end is not None:
        qs = qs.filter(draw__evaluation_start__lt=end, draw__evaluation_end__gt=start)
    return list(qs)


@transaction.atomic
def draw_cancel(*, actor, draw: Draw, reason: str) -> Draw:
    _authorize(actor, "draw.cancel", draw)
    draw = lock_draw(draw.pk)
    if draw.status == DrawStatus.CANCELLED:
        raise StateConflict(_("The draw is already cancelled."), code="cancelled")
    if draw.revealed_at:
        raise StateConflict(_("The panel has been revealed at sign-in; it can no longer be cancelled."),
                            code="revealed")
    now = clock.now()
    released = Assignment.objects.filter(draw=draw, status__in=[S.NOTIFIED, S.ACCEPTED, S.RESERVE])
    count = released.update(status=S.RELEASED, updated_at=now)
    PanelRecord.objects.filter(draw=draw).update(cancelled=True)
    draw.status, draw.cancelled_at = DrawStatus.CANCELLED, now
    draw.save(update_fields=["status", "cancelled_at", "updated_at"])
    audit_record(actor=actor, action="expert_draw.cancelled", obj=draw,
                 data={**_base(draw), "reason": reason[:500], "released": count})
    return draw


# --- reveal ----------------------------------------------------------------------------------

@dataclass
class RevealOutcome:
    draw: Draw
    revealed: bool
    removed: int = 0


@transaction.atomic
def panel_reveal(*, actor, draw: Draw) -> RevealOutcome:
    """Reveal the panel at evaluation sign-in (the evaluation step calls this).

    Before revealing, the accepted members are checked against avoidance again (a bidder may have
    registered after the draw): a member who now conflicts leaves and the seat is refilled, and the
    reveal waits (`revealed=False`, `removed` > 0). Refused while calls are still open.
    The event `expert_panel.revealed` names the members and publishes the identity salt, so that every
    earlier hashed event of this draw can be linked to them.
    """
    _authorize(actor, "draw.reveal", draw)
    draw = lock_draw(draw.pk)
    if draw.revealed_at:
        return RevealOutcome(draw, True)
    if draw.status in (DrawStatus.COMMITTED, DrawStatus.CANCELLED):
        raise StateConflict(_("The draw is %(s)s: no panel to reveal.") % {"s": draw.get_status_display()},
                            code="not_drawn")
    if draw.assignments.filter(status=S.NOTIFIED).exists():
        raise StateConflict(_("Some experts have not answered yet; the panel is revealed once every call is settled."),
                            code="pending_calls")
    now = clock.now()
    members = list(draw.assignments.filter(status=S.ACCEPTED).select_related("expert", "line").order_by("seat"))
    excluded = avoidance.exclusions(avoidance.context_for(draw), only=[m.expert_id for m in members])
    conflicted = [(m, avoidance.first_reason(m.expert_id, excluded)) for m in members]
    conflicted = [(m, r) for m, r in conflicted if r]
    for member, reason in conflicted:
        _vacate(draw, member, S.LEFT, now, reason=f"avoidance at sign-in: {reason}")
    if conflicted:
        return RevealOutcome(draw, False, len(conflicted))
    draw.revealed_at = now
    draw.save(update_fields=["revealed_at", "updated_at"])
    audit_record(actor=actor, action="expert_panel.revealed", obj=draw, data={
        **_base(draw), "identity_salt": draw.identity_salt, "status": draw.status,
        "members": [{"seat": m.seat, "line": m.line.index, "specialty": m.line.specialty_id, "expert": m.expert_id,
                     "name": m.expert.name, "assignment": m.pk, "expert_hash": m.identity_hash} for m in members]})
    # Unsealed panel → the seed and the pool snapshot are public at once (docs/experts.md, "Public draw
    # record"): anyone can re-run the draw. This closes the stream (later vacancies: supplementary draw).
    _seed_publish(actor, draw, now, release_reserves=False)
    return RevealOutcome(draw, True)


@transaction.atomic
def draw_reveal_seed(*, actor, draw: Draw) -> Draw:
    """Publish the seed once the result is decided: anyone can then replay the draw. Closes the stream:
    later vacancies need a supplementary draw (a revealed seed would make redraws predictable)."""
    _authorize(actor, "draw.reveal_seed", draw)
    draw = lock_draw(draw.pk)
    if draw.seed_revealed_at:
        # Published at the panel reveal; the result is decided now: the remaining reserves are released.
        now = clock.now()
        released = Assignment.objects.filter(draw=draw, status=S.RESERVE).update(status=S.RELEASED, updated_at=now)
        if released:
            audit_record(actor=actor, action="expert_draw.reserves_released", obj=draw,
                         data={**_base(draw), "reserves_released": released})
        return draw
    if draw.status == DrawStatus.COMMITTED:
        raise StateConflict(_("The draw has not been sampled yet."), code="not_drawn")
    if not draw.revealed_at and draw.status != DrawStatus.CANCELLED:
        raise StateConflict(_("Committee names are confidential until the result is decided: reveal the panel "
                            "first (招标投标法 Art 37)."), code="sealed")
    if draw.assignments.filter(status=S.NOTIFIED).exists():
        raise StateConflict(_("Some experts have not answered yet."), code="pending_calls")
    _seed_publish(actor, draw, clock.now(), release_reserves=True)
    return draw


def _seed_publish(actor, draw: Draw, now: datetime, *, release_reserves: bool) -> None:
    """Unseal and publish the seed (the draw is locked by the caller); writes `expert_draw.seed_revealed`.
    The stream is closed from now on; reserves drawn before may still fill seats unless released."""
    seed = seed_unseal(draw.seed_sealed, draw.pk)
    draw.seed_revealed, draw.seed_revealed_at = seed.hex(), now
    draw.save(update_fields=["seed_revealed", "seed_revealed_at", "updated_at"])
    released = 0
    if release_reserves:
        released = Assignment.objects.filter(draw=draw, status=S.RESERVE).update(status=S.RELEASED, updated_at=now)
    named = draw.revealed_at is not None
    rows = list(draw.assignments.select_related("line").order_by("seq"))
    audit_record(actor=actor, action="expert_draw.seed_revealed", obj=draw, data={
        **_base(draw), "algorithm": draw.algorithm, "seed_hex": draw.seed_revealed, "seed_sha256": draw.seed_sha256,
        "entropy": draw.entropy, "commit_seq": draw.commit_seq, "pool_sha256": draw.pool_sha256,
        "reserves_released": released,
        "sequence": [{"seq": r.seq, "line": r.line.index, "position": r.position, "skip_reason": r.skip_reason,
                      **({"expert": r.expert_id} if named else {"expert_hash": r.identity_hash})} for r in rows],
        "positions": _positions(draw.lines.order_by("index"))})


@transaction.atomic
def warning_acknowledge(*, actor, warning: DrawWarning) -> DrawWarning:
    _authorize(actor, "draw.supervise", warning.draw)
    warning = DrawWarning.objects.select_for_update().get(pk=warning.pk)
    if warning.acknowledged_at is None:
        warning.acknowledged_at, warning.acknowledged_by = clock.now(), actor
        warning.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(actor=actor, action="expert_draw.warning_acknowledged", obj=warning.draw,
                     data={**_base(warning.draw), "warning": warning.pk, "kind": warning.kind})
    return warning


def draws_in_progress() -> bool:
    """A draw is in progress while it is being sampled or has calls waiting for an answer."""
    return Draw.objects.filter(Q(status=DrawStatus.COMMITTED)
                               | Q(assignments__status=S.NOTIFIED, seed_revealed_at__isnull=True)).exists()
