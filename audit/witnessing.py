"""Independent witnesses of the audit checkpoints (docs/witness.md, SPECS.md §2).

After the platform signs a checkpoint, `checkpoint_signed` enqueues the Celery task
`audit.witness_checkpoint` on commit (never inside the signing transaction). The task sends the
checkpoint to every configured witness with C2SP tlog-witness `add-checkpoint`:

- `old` is the size this witness last cosigned according to our stored cosignatures (0 at
  first) and the body carries the RFC 6962 consistency proof from that size;
- a 409 (`text/x.tlog.size`) tells the size the witness really holds: the request is repeated
  once or twice from that size (a lost response, a new witness key store); a size above our
  log, or the same size again, is a refusal: the witness has seen a history we no longer have;
- a 200 returns cosignature lines; each is checked (tlog-cosignature/v1 by the configured key
  over this checkpoint's body) before it is stored in `WitnessCosignature`;
- every attempt is recorded in `WitnessSubmission`. The latest outcome per witness drives the
  supervision dashboard: a refusal is red, an unreachable witness yellow.

A checkpoint counts as published once `AUDIT_WITNESS_QUORUM` (default 1) distinct witnesses
cosigned it; the witnessed checkpoint is its note with the cosignature lines appended. The
public feed (`published_checkpoints`) lists exactly those, oldest first.

No audit event is written for a cosignature: it would grow the log and call for a new
checkpoint every time (the cosignatures are self-verifying evidence in their own table).
"""

from __future__ import annotations

import base64
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from audit.checkpoints import CHECKPOINT_SIGNED, consistency_proof
from audit.models import Checkpoint, WitnessCosignature, WitnessSubmission
from audit.tasks import witness_checkpoint
from audit.trust import PolicyError
from config.errors import DomainError
from witness import notes

logger = logging.getLogger(__name__)

MAX_409_RETRIES = 2


@dataclass(frozen=True)
class WitnessEndpoint:
    verifier: notes.Verifier  # name, cosignature/v1 public key
    url: str  # submission prefix: requests go to <url>/add-checkpoint

    @property
    def key_id(self) -> str:
        return self.verifier.key_id.hex()


def parse_witnesses(value: str | list | tuple) -> list[WitnessEndpoint]:
    """Witnesses from the setting: a ";"-separated string of "<vkey> <url>" or a list of such
    strings / (vkey, url) pairs."""
    entries = [e for e in value.split(";")] if isinstance(value, str) else list(value)
    found = []
    for entry in entries:
        if isinstance(entry, str):
            if not entry.strip():
                continue
            parts = entry.split()
            if len(parts) != 2:
                raise ValueError(f"a witness is '<verifier key> <url>', not {entry!r}")
            vkey, url = parts
        else:
            vkey, url = entry
        verifier = notes.parse_vkey(vkey)
        if verifier.kind != notes.SIG_COSIGNATURE_V1:
            raise ValueError(f"witness key {verifier.name} is not a cosignature/v1 (0x04) key")
        found.append(WitnessEndpoint(verifier, url.rstrip("/")))
    return found


def configured_witnesses() -> list[WitnessEndpoint]:
    found = parse_witnesses(getattr(settings, "AUDIT_WITNESSES", ""))
    url, key_file = getattr(settings, "AUDIT_WITNESS_URL", ""), getattr(settings, "AUDIT_WITNESS_VKEY_FILE", "")
    if not found and url and key_file and os.path.isfile(key_file):  # docker-compose.yml: the witness wrote it
        with open(key_file, encoding="utf-8") as f:
            vkey = f.read().strip()
        if vkey:
            found = parse_witnesses([(vkey, url)])
    return found


def quorum() -> int:
    return max(1, int(getattr(settings, "AUDIT_WITNESS_QUORUM", 1)))


# --- Sending ------------------------------------------------------------------------------------

def checkpoint_signed(checkpoint: Checkpoint) -> None:
    """Called by audit.checkpoints after a new checkpoint is signed (registered in its
    `CHECKPOINT_SIGNED` below): witness it after commit."""
    if not configured_witnesses():
        return

    size = checkpoint.tree_size
    transaction.on_commit(lambda: witness_checkpoint.delay(size))


def _last_cosigned(witness: WitnessEndpoint) -> int:
    row = (WitnessCosignature.objects.filter(witness=witness.verifier.name, key_id=witness.key_id)
           .order_by("-checkpoint__tree_size").values_list("checkpoint__tree_size", flat=True).first())
    return row or 0


def _post(url: str, body: bytes) -> tuple[int, str, str]:
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - configured witness URL
                                     headers={"Content-Type": "text/plain; charset=utf-8"})
    timeout = float(getattr(settings, "AUDIT_WITNESS_TIMEOUT", 10))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read(65536).decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read(65536).decode("utf-8", "replace")


def request_body(checkpoint: Checkpoint, old: int) -> bytes:
    """The add-checkpoint body: "old <size>", the consistency proof in base64, "", the note."""
    size = checkpoint.tree_size
    hashes = consistency_proof(first=old, second=size).hashes if 0 < old < size else []
    lines = [f"old {old}"] + [base64.b64encode(h).decode("ascii") for h in hashes]
    return ("\n".join(lines) + "\n\n" + checkpoint.note).encode("utf-8")


@transaction.atomic
def submission_record(*, witness: WitnessEndpoint, checkpoint: Checkpoint, old: int, outcome: str,
                      status: int | None = None, detail: str = "") -> WitnessSubmission:
    return WitnessSubmission.objects.create(
        witness=witness.verifier.name, key_id=witness.key_id, url=witness.url, tree_size=checkpoint.tree_size,
        old_size=old, outcome=outcome, status=status, detail=detail[:2000], at=timezone.now())


@transaction.atomic
def cosignature_record(*, witness: WitnessEndpoint, checkpoint: Checkpoint, response: str, old: int,
                       status: int) -> WitnessCosignature | None:
    """Store the cosignature by `witness` found in a 200 response; None (and a refusal) if there
    is no valid one."""
    text = checkpoint.note.partition("\n\n")[0] + "\n"
    try:
        _, signatures = notes.split_note(text + "\n" + response)
    except notes.NoteError as exc:
        submission_record(witness=witness, checkpoint=checkpoint, old=old, outcome="refused", status=status,
                          detail=f"malformed cosignature response: {exc}")
        return None
    timestamp = notes.cosignature_time(text, signatures, witness.verifier)
    if timestamp is None:
        submission_record(witness=witness, checkpoint=checkpoint, old=old, outcome="refused", status=status,
                          detail="the response holds no valid cosignature by the configured witness key")
        return None
    line = next(s.line for s in signatures if s.name == witness.verifier.name
                and s.key_id == witness.verifier.key_id and notes.cosignature_time(text, [s], witness.verifier))
    cosignature, _ = WitnessCosignature.objects.get_or_create(
        checkpoint=checkpoint, witness=witness.verifier.name, key_id=witness.key_id,
        defaults={"timestamp": timestamp, "line": line, "received_at": timezone.now()})
    submission_record(witness=witness, checkpoint=checkpoint, old=old, outcome="cosigned", status=status)
    return cosignature


def witness_send(*, checkpoint: Checkpoint, witness: WitnessEndpoint) -> WitnessSubmission | None:
    """Send `checkpoint` to one witness (see the module docstring); None when there is nothing
    to do (already cosigned, or the witness already holds a larger checkpoint of ours)."""
    size = checkpoint.tree_size
    if WitnessCosignature.objects.filter(checkpoint=checkpoint, witness=witness.verifier.name,
                                         key_id=witness.key_id).exists():
        return None
    old = _last_cosigned(witness)
    if old > size:
        return None
    url = f"{witness.url}/add-checkpoint"
    for attempt in range(MAX_409_RETRIES + 1):
        try:
            payload = request_body(checkpoint, old)
        except DomainError as exc:  # LogInconsistent: our own log cannot prove it extends `old`
            logger.error("no consistency proof from %s to %s for witness %s: %s", old, size,
                         witness.verifier.name, exc)
            return submission_record(witness=witness, checkpoint=checkpoint, old=old, outcome="refused",
                                     detail=f"the platform cannot prove its log extends size {old}: {exc}")
        try:
            status, content_type, body = _post(url, payload)
        except (OSError, ValueError) as exc:  # refused connection, timeout, bad URL
            logger.warning("witness %s unreachable: %s", witness.verifier.name, exc)
            return submission_record(witness=witness, checkpoint=checkpoint, old=old, outcome="unreachable",
                                     detail=str(exc))
        if status == 200:
            cosignature_record(witness=witness, checkpoint=checkpoint, response=body, old=old, status=status)
            return WitnessSubmission.objects.filter(witness=witness.verifier.name, key_id=witness.key_id).first()
        if status == 409 and content_type.split(";")[0].strip() == "text/x.tlog.size" and attempt < MAX_409_RETRIES:
            held = body.strip()
            if held.isdigit() and int(held) != old and int(held) <= size:
                old = int(held)
                continue
            if held.isdigit() and int(held) > size and Checkpoint.objects.filter(tree_size=int(held)).exists() \
                    and Checkpoint.objects.filter(tree_size__gt=size).exists():
                return None  # the witness already holds a later checkpoint of ours: this one is stale
        if status >= 500:
            return submission_record(witness=witness, checkpoint=checkpoint, old=old, outcome="unreachable",
                                     status=status, detail=body)
        logger.error("witness %s refused checkpoint %s (old %s): %s %s", witness.verifier.name, size, old,
                     status, body.strip()[:200])
        return submission_record(witness=witness, checkpoint=checkpoint, old=old, outcome="refused",
                                 status=status, detail=body)
    return None  # pragma: no cover - the loop always returns


def checkpoint_witness(*, tree_size: int | None = None) -> int:
    """Send the checkpoint of `tree_size` (default: the latest) to every configured witness
    that has not cosigned it; return the number of valid cosignatures it now has."""
    qs = Checkpoint.objects.all()
    checkpoint = (qs.filter(tree_size=tree_size) if tree_size is not None else qs.order_by("-tree_size")).first()
    if checkpoint is None:
        return 0
    for witness in configured_witnesses():
        try:
            witness_send(checkpoint=checkpoint, witness=witness)
        except Exception:  # one broken witness must not stop the others
            logger.exception("sending checkpoint %s to witness %s failed", checkpoint.tree_size,
                             witness.verifier.name)
    return checkpoint.cosignatures.count()


# --- Publishing ----------------------------------------------------------------------------------

def witnessed_note(checkpoint: Checkpoint) -> str:
    """The checkpoint note with the platform's signature line and every stored cosignature line."""
    lines = "".join(c.line + "\n" for c in checkpoint.cosignatures.order_by("received_at", "pk"))
    return checkpoint.note + lines


def published_checkpoints() -> QuerySet[Checkpoint]:
    """Checkpoints cosigned by at least a quorum of witnesses, oldest first (the public feed)."""
    return (Checkpoint.objects.annotate(witness_count=Count("cosignatures"))
            .filter(witness_count__gte=quorum()).order_by("tree_size"))


def published_at(checkpoint: Checkpoint) -> datetime | None:
    """When the quorum-th cosignature arrived."""
    times = list(checkpoint.cosignatures.order_by("received_at").values_list("received_at", flat=True))
    return times[quorum() - 1] if len(times) >= quorum() else None


def published_entry(checkpoint: Checkpoint) -> dict[str, Any]:
    return {"origin": settings.AUDIT_LOG_ORIGIN, "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "witnesses": [c.witness for c in checkpoint.cosignatures.order_by("received_at", "pk")],
            "published_at": published_at(checkpoint), "witnessed_checkpoint": witnessed_note(checkpoint)}


def latest_published() -> Checkpoint | None:
    return published_checkpoints().order_by("-tree_size").first()


def anchor() -> dict[str, Any] | None:
    """The latest witnessed checkpoint, for documents the public keeps (opening records,
    result notices); None before any checkpoint reached the quorum."""
    checkpoint = latest_published()
    return None if checkpoint is None else published_entry(checkpoint)


def anchor_text_of(entry: dict[str, Any]) -> str:
    """One line describing an anchor entry (notices, PDFs)."""
    root_b64 = base64.b64encode(bytes.fromhex(entry["root_hash"])).decode("ascii")
    return (f"审计日志见证检查点 Witnessed audit checkpoint: {entry['origin']} tree size {entry['tree_size']}, "
            f"root {root_b64}, witnesses {', '.join(entry['witnesses'])}")


def anchor_section(entry: dict[str, Any]) -> str:
    """The anchor as printed at the end of result notices: a heading line, then the witnessed
    checkpoint note verbatim (verifiable with the platform's and the witnesses' keys)."""
    return f"{anchor_text_of(entry)}\n{entry['witnessed_checkpoint']}".rstrip("\n")


# --- Supervision --------------------------------------------------------------------------------

def witness_states() -> list[dict[str, Any]]:
    """The latest submission of each configured witness (None if never tried)."""
    states = []
    for witness in configured_witnesses():
        last = (WitnessSubmission.objects.filter(witness=witness.verifier.name, key_id=witness.key_id)
                .order_by("-at", "-pk").first())
        states.append({"witness": witness, "last": last})
    return states


# --- Trust policy over the stored checkpoints --------------------------------------------------------

def policy_witnessed_notes(policy: Any, held: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(witnessed note, label) of the latest stored checkpoint that satisfies `policy`
    (audit.trust.TrustPolicy), plus every held note (e.g. `--checkpoint FILE`) that
    does; PolicyError when none does. The caller checks the log against these notes."""
    found: list[tuple[str, str]] = []
    checkpoints = Checkpoint.objects.annotate(n=Count("cosignatures")).filter(n__gt=0).order_by("-tree_size")
    for checkpoint in checkpoints.prefetch_related("cosignatures")[:50]:
        note = witnessed_note(checkpoint)
        try:
            names = policy.check(note)
        except PolicyError:
            continue
        found.append((note, f"checkpoint at tree size {checkpoint.tree_size} witnessed by {', '.join(names)}"))
        break
    for note, label in held:
        try:
            names = policy.check(note)
        except PolicyError:
            continue
        found.append((note, f"{label} witnessed by {', '.join(names)}"))
    if not found:
        raise PolicyError(f"no checkpoint is cosigned as the trust policy requires ({policy.describe()}): "
                          "the log is not witnessed, or its witnessed checkpoints were removed")
    return found


def export_note(checkpoint: Checkpoint) -> str:
    """The witnessed note for an export bundle: a checkpoint without its quorum yet is first sent
    to the witnesses now (outside any transaction), so a fresh export is verifiable under a
    trust policy right away."""
    witnesses = configured_witnesses()
    if witnesses and checkpoint.cosignatures.count() < min(quorum(), len(witnesses)) \
            and not transaction.get_connection().in_atomic_block:
        checkpoint_witness(tree_size=checkpoint.tree_size)
    return witnessed_note(checkpoint)


def checkpoint_trust(policy: Any, tree_size: int) -> dict[str, Any]:
    """Whether the stored checkpoint of `tree_size`, with its cosignatures, satisfies `policy`
    (the replay page): {"ok", "witnesses", "problem", "policy"}."""
    result: dict[str, Any] = {"ok": False, "witnesses": [], "problem": "", "policy": policy.describe()}
    checkpoint = Checkpoint.objects.filter(tree_size=tree_size).first()
    if checkpoint is None:
        result["problem"] = "no signed checkpoint to check"
        return result
    try:
        result["witnesses"] = policy.check(witnessed_note(checkpoint))
        result["ok"] = True
    except PolicyError as exc:
        result["problem"] = str(exc)
    return result


if checkpoint_signed not in CHECKPOINT_SIGNED:
    CHECKPOINT_SIGNED.append(checkpoint_signed)
