"""The orphan-file sweeper (docs/operations.md, "Faults and recovery").

Files and rows commit together (storage.py, decrypt.py): a file reaches its final name only
when the transaction that saved its row commits. What a fault can still leave behind, and
what the sweeper does with it once it is older than the grace period
(`settings.ORPHAN_GRACE_SECONDS`, by its modification time):

- `envelopes/.incoming/*.part` (a process killed during an upload): removed.
- `envelopes/.staged/<sha>.<r>.sbe1` (a rolled-back or failed COMMIT): removed when no Bid
  row has that SHA-256 or the stored file exists already; when a Bid row has it and the
  final file is missing (a crash between COMMIT and the rename) it is renamed to its final
  name instead (recovered).
- `envelopes/ab/<sha>.sbe1` that no Bid row names (a failed COMMIT of the older code, which
  renamed inside the transaction): removed.
- `opened-bids/.partial/bid-<pk>-<r>/` (a crash during a decryption or before its outcome was
  saved): moved into place when the bid's outcome is committed as decrypted, its directory
  is missing and the file names match the saved manifest (recovered); removed otherwise.
- `opened-bids/<tender>/<bid>/` whose bid's opening is not decrypted (decrypted files whose
  outcome was never saved): removed.

One audit event `storage.orphans_swept` (actor `system`, object `trading.storage:sweep`)
lists what was removed and recovered (area, name, age in seconds); the removals run when
that event commits. Nothing is recorded when nothing was found.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction

from audit.services import audit_record
from trading.bids import storage
from trading.models import Bid, BidOpening, BidOpeningStatus
from trading.opening.decrypt import move_into_place, target_dir

AUDIT_OBJECT = "trading.storage:sweep"
MAX_LISTED = 200  # entries named in the audit event; the counts are always complete


def orphan_grace() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "ORPHAN_GRACE_SECONDS", 3600)))


@dataclass
class SweepReport:
    removed: list[dict] = field(default_factory=list)
    recovered: list[dict] = field(default_factory=list)

    def as_data(self) -> dict:
        return {"removed": self.removed[:MAX_LISTED], "recovered": self.recovered[:MAX_LISTED],
                "removed_count": len(self.removed), "recovered_count": len(self.recovered)}


def _age(path: Path, now: float) -> float | None:
    try:
        return now - path.stat().st_mtime
    except FileNotFoundError:
        return None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _old(root: Path, pattern: str, now: float, grace: float):
    if not root.is_dir():
        return
    for path in sorted(root.glob(pattern)):
        age = _age(path, now)
        if age is not None and age >= grace:
            yield path, int(age)


@transaction.atomic
def storage_orphans_sweep(*, grace: timedelta | None = None, now: float | None = None) -> SweepReport:
    """Remove (or finish) the files a fault left without their committed row; see the module docstring."""
    grace_s = (grace if grace is not None else orphan_grace()).total_seconds()
    now = time.time() if now is None else now
    report = SweepReport()
    removals: list[Path] = []
    envelopes, opened = storage.envelope_root(), storage.opened_root()

    def remove(area: str, path: Path, age: int) -> None:
        removals.append(path)
        report.removed.append({"area": area, "name": path.name, "age_seconds": age})

    for path, age in _old(envelopes / ".incoming", "*.part", now, grace_s):
        remove("envelopes.incoming", path, age)

    for path, age in _old(storage.staged_root(), "*.sbe1", now, grace_s):
        sha = storage.staged_sha256(path)
        final = storage.path_of(storage.storage_name(sha)) if sha else None
        if sha and final is not None and not final.exists() and Bid.objects.filter(envelope_sha256=sha).exists():
            storage.store(path, sha)  # the row committed, the rename did not happen: finish it
            report.recovered.append({"area": "envelopes.staged", "name": path.name, "age_seconds": age})
        else:
            remove("envelopes.staged", path, age)

    named = {p: a for p, a in _old(envelopes, "[0-9a-f][0-9a-f]/*.sbe1", now, grace_s)}
    if named:
        referenced = set(Bid.objects.filter(storage_name__in=[f"{p.parent.name}/{p.name}" for p in named])
                         .values_list("storage_name", flat=True))
        for path, age in named.items():
            if f"{path.parent.name}/{path.name}" not in referenced:
                remove("envelopes.stored", path, age)

    decrypted = BidOpening.objects.filter(status=BidOpeningStatus.DECRYPTED)
    for path, age in _old(opened / ".partial", "bid-*-*", now, grace_s):
        try:
            bid_pk = int(path.name.split("-")[1])
        except ValueError:
            remove("opened.partial", path, age)
            continue
        bo = decrypted.select_related("bid").filter(bid_id=bid_pk).first()
        final = target_dir(bo.bid) if bo is not None else None
        if final is not None and not final.exists() and _files_match(path, bo.files):
            move_into_place(path, final)
            report.recovered.append({"area": "opened.partial", "name": path.name, "age_seconds": age})
        else:
            remove("opened.partial", path, age)

    targets = [(p, a) for p, a in _old(opened, "[0-9]*/[0-9]*", now, grace_s)
               if p.is_dir() and p.name.isdigit() and p.parent.name.isdigit()]
    if targets:
        ok = set(decrypted.filter(bid_id__in=[int(p.name) for p, _ in targets]).values_list("bid_id", "bid__tender_id"))
        for path, age in targets:
            if (int(path.name), int(path.parent.name)) not in ok:
                remove("opened.bids", path, age)
                report.removed[-1]["name"] = f"{path.parent.name}/{path.name}"

    if report.removed or report.recovered:
        audit_record(actor="system", action="storage.orphans_swept", obj=AUDIT_OBJECT,
                     data={**report.as_data(), "grace_seconds": int(grace_s)})
        paths = list(removals)
        storage.after_commit(lambda: [_remove(p) for p in paths])
    return report


def _files_match(directory: Path, files: list) -> bool:
    """The work directory holds exactly the files the saved outcome lists (names only)."""
    names = {str(f.get("name")) for f in files or [] if isinstance(f, dict)}
    try:
        present = {p.name for p in directory.iterdir()}
    except OSError:
        return False
    return names == present

