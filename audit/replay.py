"""Supervisor replay of one tender's audit trail (docs/audit.md, "Supervisor replay").

`tender_replay(tender=..., at=..., actor=..., kind=...)` reads the tender's events (object
"trading.tender:<id>" or "tender": <id> in data, as `audit.export.tender_events`), checks each
one, and folds them with the reducers registered with `audit.replay_reducers` (the tender's:
supervision/replay_reducers.py) up to the selected event: the state shown is rebuilt from the
log alone, never read from the current tables.

Each event is checked three ways:
- **leaf**: SHA-256(0x00 ‖ canonical bytes) recomputed from its fields equals its stored hash;
- **link**: its `prev` equals the stored hash of event seq − 1 (64 zeros for seq 1);
- **inclusion**: the RFC 6962 root recomputed from the *recomputed* leaf and its audit path
  (node store) equals the root of the latest kept checkpoint, whose Ed25519 signature is
  checked first. Events after that checkpoint are "pending" (not yet provable), not failed.
An event rewritten and re-chained by someone who switched the append-only guard off passes
the first two checks and fails the third; one altered without re-chaining fails the first.

Filters (actor, kind) narrow the timeline only; the state at an event is always the fold of
*every* event of the tender up to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from audit import checkpoints, merkle, sealed
from audit.canonical import canonical_bytes, format_timestamp
from audit.export import tender_events
from audit.models import AuditEvent, Checkpoint
from audit.replay_reducers import fold, interpreted, summary
from audit.services import GENESIS_PREV, leaf_hash
from audit.signing import NoteError
from audit.trust import TrustPolicy
from audit.witnessing import checkpoint_trust
from config.errors import DomainError, NotFoundError

MAX_EVENTS = 20000  # one tender; a whole-log replay is `manage.py audit verify`'s job

# The secret seal salt of a tender before its deadline (None: no such tender). It lives on the
# tender, above the audit core, so the app that owns tenders' replay registers the lookup
# (`replay_seal_salt`, supervision/replay_reducers.py); without one, sealed events stay sealed
# until the reveal event publishes the salt.
_SEAL_SALT: list[Callable[[int], str | None]] = []


def replay_seal_salt(lookup: Callable[[int], str | None]) -> None:
    """Register how the supervisor's replay reads a tender's seal salt before the reveal."""
    _SEAL_SALT[:] = [lookup]


@dataclass
class EventCheck:
    leaf: bool
    link: bool
    inclusion: bool | None  # None: after the latest checkpoint (or none yet): not provable yet
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.leaf and self.link and self.inclusion is not False

    @property
    def status(self) -> str:
        if not self.ok:
            return "failed"
        return "verified" if self.inclusion else "pending"

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "status": self.status, "leaf": self.leaf, "link": self.link,
                "inclusion": self.inclusion, "problems": list(self.problems)}


@dataclass
class CheckpointInfo:
    tree_size: int = 0
    root_hash: str = ""
    signature_ok: bool | None = None  # None: no checkpoint yet
    problem: str = ""
    held: list[dict[str, Any]] = field(default_factory=list)  # the user's checkpoints: {label, tree_size, ok, problem}
    # the trust policy's witnesses on this checkpoint: {ok, witnesses, problem, policy}; None without witnesses
    witnessed: dict[str, Any] | None = None

    @property
    def held_ok(self) -> bool:
        return all(item["ok"] for item in self.held)

    def as_dict(self) -> dict[str, Any]:
        return {"tree_size": self.tree_size, "root_hash": self.root_hash, "signature_ok": self.signature_ok,
                "problem": self.problem, "held": [dict(item) for item in self.held],
                "witnessed": dict(self.witnessed) if self.witnessed is not None else None}


@dataclass
class ReplayEvent:
    event: AuditEvent
    check: EventCheck
    position: int  # index among all the tender's events

    @property
    def kind(self) -> str:
        return event_kind(self.event.action)

    @property
    def interpreted(self) -> bool:
        return interpreted(self.event.action)

    def as_dict(self) -> dict[str, Any]:
        e = self.event
        return {"seq": e.seq, "ts": format_timestamp(e.ts), "actor": e.actor, "action": e.action,
                "kind": self.kind, "object": e.object, "data": e.data, "prev": e.prev, "hash": e.hash,
                "interpreted": self.interpreted, "verification": self.check.as_dict(),
                **({"sealed_commitment": e.sealed_commitment} if hasattr(e, "sealed_commitment") else {})}


@dataclass
class Replay:
    tender: str
    events: list[ReplayEvent]  # the timeline after filters
    total: int  # events of the tender before filters
    selected: ReplayEvent | None
    state: dict[str, Any]
    checkpoint: CheckpointInfo
    actors: list[str]
    kinds: list[str]
    filters: dict[str, str]
    failed: int

    @property
    def index(self) -> int | None:
        """Position of the selected event in the filtered timeline (None if filtered out)."""
        if self.selected is None:
            return None
        for i, item in enumerate(self.events):
            if item.event.seq == self.selected.event.seq:
                return i
        return None

    def neighbours(self) -> dict[str, int | None]:
        """Seqs of the first, previous, next and last events of the filtered timeline."""
        seqs = [item.event.seq for item in self.events]
        if not seqs:
            return {"first": None, "previous": None, "next": None, "last": None}
        at = self.selected.event.seq if self.selected else seqs[-1]
        before = [s for s in seqs if s < at]
        after = [s for s in seqs if s > at]
        return {"first": seqs[0], "previous": before[-1] if before else None,
                "next": after[0] if after else None, "last": seqs[-1]}

    def as_dict(self, *, with_events: bool = True) -> dict[str, Any]:
        out = {
            "tender": self.tender, "total": self.total, "failed": self.failed,
            "filters": self.filters, "actors": self.actors, "kinds": self.kinds,
            "checkpoint": self.checkpoint.as_dict(),
            "at": self.selected.event.seq if self.selected else None,
            "selected": self.selected.as_dict() if self.selected else None,
            "neighbours": self.neighbours(),
            "state": self.state, "summary": summary(self.state),
        }
        if with_events:
            out["events"] = [item.as_dict() for item in self.events]
        return out


def event_kind(action: str) -> str:
    """The kind of an action for filtering: its family ("objection" for "objection.raised")."""
    return action.split(".", 1)[0]


# --- verification ------------------------------------------------------------------------------

def _checkpoint_info(checkpoint: Checkpoint | None) -> CheckpointInfo:
    if checkpoint is None:
        return CheckpointInfo(problem="no checkpoint has been signed yet")
    info = CheckpointInfo(tree_size=checkpoint.tree_size, root_hash=checkpoint.root_hash)
    try:
        size, root = checkpoints.checkpoint_open(checkpoint.note)
    except NoteError as exc:
        info.signature_ok, info.problem = False, f"checkpoint {checkpoint.tree_size}: {exc}"
        return info
    if size != checkpoint.tree_size or root.hex() != checkpoint.root_hash:
        info.signature_ok = False
        info.problem = f"checkpoint {checkpoint.tree_size}: the signed note does not match the stored row"
    else:
        info.signature_ok = True
    return info


def _held_check(policy: TrustPolicy | None) -> list[tuple[dict[str, Any], int, bytes]]:
    """Each held checkpoint: its signature, and that the log still has its size and its root
    there (the root from the node store: equal to a signed root only if those nodes are genuine;
    the events shown are then also proved included under it)."""
    out = []
    head = checkpoints.log_size()
    for held in policy.checkpoints if policy else []:
        item: dict[str, Any] = {"label": held.label, "tree_size": None, "ok": False, "problem": ""}
        out.append((item, 0, b""))
        try:
            size, root = held.open()
        except NoteError as exc:
            item["problem"] = f"{held.label}: {exc}"
            continue
        item["tree_size"] = size
        if size > head:
            item["problem"] = (f"the log has {head} events but {held.label} covers {size}: "
                               "the log was truncated")
            continue
        try:
            ok = checkpoints.tree_root(size) == root
        except DomainError as exc:
            ok, item["problem"] = False, f"{held.label}: {exc}"
        if not ok:
            item["problem"] = item["problem"] or (f"the log is NOT consistent with {held.label}: its root at "
                                                  f"tree size {size} differs; the log was rewritten")
            continue
        item["ok"] = True
        out[-1] = (item, size, root)
    return out


def _prove(results: dict[int, EventCheck], recomputed: dict[int, str], seqs: list[int], size: int,
           root: bytes, label: str) -> None:
    try:
        paths = checkpoints.inclusion_paths(seqs, size)
    except DomainError as exc:  # the log is shorter than its checkpoint, or the node store cannot be filled
        for seq in seqs:
            results[seq].inclusion = False
            results[seq].problems.append(f"no inclusion proof in {label}: {exc}")
        return
    for seq in seqs:
        try:
            ok = merkle.root_from_inclusion_proof(seq - 1, size, bytes.fromhex(recomputed[seq]), paths[seq]) == root
        except merkle.ProofError:
            ok = False
        if results[seq].inclusion is not False:
            results[seq].inclusion = ok
        if not ok:
            results[seq].problems.append(f"the inclusion proof does not lead to the signed root of {label}")


def events_verify(events: list[AuditEvent], *, policy: TrustPolicy | None = None,
                  ) -> tuple[dict[int, EventCheck], CheckpointInfo]:
    """Leaf, link and inclusion checks of `events` (any subset of the log), in a few queries;
    with a trust policy, also against the checkpoints the user holds: any one the log does not
    extend fails every event."""
    info = _checkpoint_info(checkpoints.checkpoint_latest())
    if policy is not None and policy.witnesses:
        info.witnessed = checkpoint_trust(policy, info.tree_size)
    seqs = [e.seq for e in events]
    previous = dict(AuditEvent.objects.filter(seq__in=[s - 1 for s in seqs if s > 1]).values_list("seq", "hash"))
    results: dict[int, EventCheck] = {}
    recomputed: dict[int, str] = {}
    for event in events:
        digest = leaf_hash(canonical_bytes(event.as_dict()))
        recomputed[event.seq] = digest
        expected_prev = GENESIS_PREV if event.seq == 1 else previous.get(event.seq - 1)
        check = EventCheck(leaf=digest == event.hash, link=event.prev == expected_prev, inclusion=None)
        if not check.leaf:
            check.problems.append("SHA-256(0x00 ‖ canonical event) differs from the stored hash: the event "
                                  "was altered")
        if not check.link:
            check.problems.append("prev differs from the hash of the previous event: the chain is broken here"
                                  if expected_prev is not None else "the previous event is missing")
        results[event.seq] = check
    for item, size, root in _held_check(policy):
        info.held.append(item)
        if not item["ok"]:
            for seq in seqs:
                results[seq].inclusion = False
                results[seq].problems.append(item["problem"])
            continue
        held_covered = [s for s in seqs if s <= size]
        if held_covered:
            _prove(results, recomputed, held_covered, size, root, item["label"])
    covered = [s for s in seqs if s <= info.tree_size]
    if not covered:
        return results, info
    if not info.signature_ok:
        for seq in covered:
            results[seq].inclusion = False
            results[seq].problems.append(info.problem)
        return results, info
    _prove(results, recomputed, covered, info.tree_size, bytes.fromhex(info.root_hash),
           f"checkpoint {info.tree_size}")
    return results, info


# --- the replay -----------------------------------------------------------------------------------

def tender_replay(*, tender: int | str, at: int | None = None, actor: str = "", kind: str = "",
                  policy: TrustPolicy | None = None) -> Replay:
    """The tender's timeline (filtered), each event checked, and the state as of event `at`
    (default: the last event of the filtered timeline, else the tender's last event)."""
    tender = str(tender)
    events = list(tender_events(tender)[:MAX_EVENTS + 1])
    if not events:
        raise NotFoundError(f"No audit events for tender {tender}.")
    if len(events) > MAX_EVENTS:
        raise DomainError(f"Tender {tender} has more than {MAX_EVENTS} events; export it and use the verifier.",
                          code="too_many_events")
    events, opened, sealed_problems = _open_sealed(tender, events)
    checks, info = events_verify(events, policy=policy)
    for seq, problem in sealed_problems.items():
        checks[seq].problems.append(problem)
    # Verified as stored (the commitment); shown and folded opened.
    events = [_as_opened(e, opened[e.seq]) if e.seq in opened else e for e in events]
    items = [ReplayEvent(event=e, check=checks[e.seq], position=i) for i, e in enumerate(events)]
    by_seq = {item.event.seq: item for item in items}
    timeline = [item for item in items
                if (not actor or item.event.actor == actor)
                and (not kind or item.kind == kind or item.event.action == kind)]
    if at is not None:
        selected = by_seq.get(at)
        if selected is None:
            raise NotFoundError(f"Event {at} is not an event of tender {tender}.")
    else:
        selected = timeline[-1] if timeline else items[-1]
    state = fold((e.as_dict() for e in events[:selected.position + 1]), tender=_tender_id(tender))
    state["sealed_events"] = {"opened": len(opened), "source": _opened_source(events, opened)}
    return Replay(
        tender=tender, events=timeline, total=len(items), selected=selected, state=state, checkpoint=info,
        actors=sorted({item.event.actor for item in items}),
        kinds=sorted({item.kind for item in items}),
        filters={"actor": actor, "kind": kind},
        failed=sum(1 for item in items if not item.check.ok),
    )


def _as_opened(event: AuditEvent, opened: dict) -> AuditEvent:
    """An unsaved copy of a sealed event showing what it stands for (hash and prev as stored)."""
    copy = AuditEvent(seq=event.seq, ts=event.ts, actor=opened["actor"], action=opened["action"],
                      object=opened["object"], data=opened["data"], prev=event.prev, hash=event.hash)
    copy.sealed_commitment = event.data.get("commitment")
    return copy


def _opened_source(events: list[AuditEvent], opened: dict) -> str | None:
    if not opened:
        return None
    return "log" if any(e.action == "tender.status_changed" and "sealed" in (e.data or {}) for e in events) \
        else "database"


def _open_sealed(tender: str, events: list[AuditEvent]) -> tuple[list[AuditEvent], dict[int, dict], dict[int, str]]:
    """The tender's sealed events (audit/sealed.py) opened for the fold. After the deadline the reveal
    event in the log publishes the salt and the openings; before it, the supervisor's replay opens them
    from the database (`SealedOpening`, the privileged path of docs/audit.md), each checked against its
    commitment. Returns the events (sealed ones added), {seq: opened event} and {seq: problem}."""
    reveal = next((e for e in events if e.action == "tender.status_changed" and "sealed" in (e.data or {})), None)
    if reveal is not None:
        salt, openings = str(reveal.data.get("seal_salt", "")), sealed.revealed_openings(reveal.data)
    else:
        if not tender.isdigit() or not _SEAL_SALT:
            return events, {}, {}
        salt = _SEAL_SALT[0](int(tender))
        if salt is None:
            return events, {}, {}
        openings = sealed.stored_openings(tender)
    if not openings:
        return events, {}, {}
    have = {e.seq for e in events}
    extra = list(AuditEvent.objects.filter(seq__in=[s for s in openings if s not in have]))
    events = sorted([*events, *extra], key=lambda e: e.seq)
    opened: dict[int, dict] = {}
    problems: dict[int, str] = {}
    for event in events:
        opening = openings.get(event.seq)
        if opening is None:
            continue
        if sealed.opening_verifies(event, opening, salt):
            opened[event.seq] = sealed.opened_event(event.as_dict(), opening)
        else:
            problems[event.seq] = "the opening does not match the sealed event's commitment"
    return events, opened, problems


def _tender_id(tender: str) -> int | str:
    return int(tender) if tender.isdigit() else tender
