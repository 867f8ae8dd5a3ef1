"""`manage.py audit <subcommand>`: operations on the audit log (docs/audit.md).

  verify      re-hash the whole chain (streaming), report the first broken seq, and check
              every kept checkpoint (and --checkpoint FILE notes) against the Merkle root
              recomputed from the events: catches truncated and rewritten logs
  checkpoint  fill the Merkle node store and sign a checkpoint of the log now
  export      write an export bundle (whole log or --tender ID) for the offline verifier
  nodes       fill (or --rebuild) the Merkle node store
  public-key  print the platform's checkpoint verifier key
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import (
    LogInconsistent,
    checkpoint_create,
    journal_notes,
    log_verify,
    nodes_fill,
    nodes_rebuild,
)
from audit.export import bundle_write
from audit.models import AuditEvent, Checkpoint
from audit.signing import platform_verifier_key
from audit.trust import PolicyError, TrustPolicy, trust_add_arguments, trust_from_options
from audit.witnessing import policy_witnessed_notes
from config.errors import DomainError

_VERDICT = {
    "chain": "audit chain BROKEN at seq {seq}: {problem}",
    "checkpoint": "audit log REWRITTEN: {problem} (events up to seq {seq} were changed and re-chained)",
    "truncated": "audit log TRUNCATED: {problem}",
    "signature": "audit checkpoint INVALID: {problem}",
}


class Command(BaseCommand):
    help = "Audit log operations: verify, checkpoint, export, nodes, public-key."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="re-hash the chain and check every checkpoint against it")
        verify.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
        # --checkpoint NOTE_FILE, --witness VKEY, --quorum N, --trust-policy FILE (audit/trust.py)
        trust_add_arguments(verify)
        sub.add_parser("checkpoint", help="sign a checkpoint of the log now and print it")
        export = sub.add_parser("export", help="write an export bundle for the offline verifier")
        export.add_argument("--out", required=True, help="bundle file to write (.jsonl)")
        export.add_argument("--tender", help="only this tender's events, with inclusion proofs")
        export.add_argument("--consistency-from", type=int, metavar="SIZE",
                            help="add a consistency proof from an older checkpoint's tree size")
        nodes = sub.add_parser("nodes", help="fill the Merkle node store up to the head of the log")
        nodes.add_argument("--rebuild", action="store_true", help="drop the node store and recompute it")
        sub.add_parser("public-key", help="print the checkpoint verifier key")

    def handle(self, *args, **options):
        return getattr(self, f"handle_{options['subcommand'].replace('-', '_')}")(**options)

    def handle_verify(self, **options) -> None:
        try:
            policy = trust_from_options(options)
        except OSError as exc:
            raise CommandError(f"cannot read a checkpoint file: {exc}") from exc
        except PolicyError as exc:
            raise CommandError(f"unusable trust policy: {exc}") from exc
        notes = policy.notes()
        try:  # the notes signed on this machine, kept beside the key (audit.checkpoints.journal_path)
            kept = set(Checkpoint.objects.values_list("note", flat=True))
            notes += [(note, f"journal entry {i}") for i, note in enumerate(journal_notes(), 1) if note not in kept]
        except LogInconsistent as exc:
            raise CommandError(exc.message) from exc
        total = AuditEvent.objects.count()
        started = time.monotonic()
        show = sys.stderr.isatty() and not options["no_progress"]

        def progress(done: int) -> None:
            if not show:
                return
            width = 30
            filled = int(width * done / total) if total else width
            rate = done / max(time.monotonic() - started, 1e-9)
            bar = f"[{'#' * filled}{'.' * (width - filled)}]"
            sys.stderr.write(f"\r{bar} {done}/{total} events {rate:,.0f}/s")
            sys.stderr.flush()

        notes += trust_policy_notes(policy, notes)
        report = log_verify(notes=notes, progress=progress)
        if show:
            sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        if not report.ok:
            verdict = _VERDICT[report.kind].format(seq=report.first_broken_seq, problem=report.problem)
            raise CommandError(f"{verdict} ({report.checked} events verified before it)")
        latest = f", latest at tree size {report.checkpoint_sizes[-1]}" if report.checkpoint_sizes else ""
        witnessed = "".join(f"; {label}: OK" for _, label in notes if " witnessed by " in label)
        self.stdout.write(self.style.SUCCESS(
            f"audit chain OK: {report.checked} events, head seq {report.head_seq}, "
            f"head hash {report.head_hash}; {report.checkpoints_checked} signed checkpoints match the "
            f"log{latest}{witnessed} ({elapsed:.2f} s)"
        ))

    def handle_checkpoint(self, **options) -> None:
        try:
            checkpoint = checkpoint_create()
        except LogInconsistent as exc:
            raise CommandError(f"checkpoint refused: {exc.message}") from exc
        self.stdout.write(checkpoint.note, ending="")

    def handle_export(self, **options) -> None:
        out = Path(options["out"])
        try:
            with out.open("wb") as stream:
                bundle = bundle_write(stream, tender=options["tender"],
                                      consistency_from=options["consistency_from"])
        except DomainError as exc:
            out.unlink(missing_ok=True)
            raise CommandError(exc.message) from exc
        scope = f"tender {bundle.tender}" if bundle.tender is not None else "whole log"
        self.stdout.write(self.style.SUCCESS(
            f"exported {bundle.event_count} events ({scope}) at tree size {bundle.checkpoint.tree_size} "
            f"to {out}"))

    def handle_nodes(self, **options) -> None:
        try:
            prefix = nodes_rebuild() if options["rebuild"] else nodes_fill()
        except LogInconsistent as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Merkle node store covers the first {prefix} events")

    def handle_public_key(self, **options) -> None:
        self.stdout.write(platform_verifier_key())


# --- Trust policy (witness keys + quorum, docs/witness.md) -------------------------------------------

def trust_policy_notes(policy: TrustPolicy, held: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The witnessed checkpoints the log must match under the policy's witnesses (none without)."""
    if not policy.witnesses:
        return []
    try:
        return policy_witnessed_notes(policy, held)
    except PolicyError as exc:
        raise CommandError(f"audit log NOT WITNESSED: {exc}") from exc
