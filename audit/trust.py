"""What a verifier trusts besides the database: the user's trust policy (docs/audit.md).

Today a trust policy is the checkpoints the user holds (signed notes kept outside the platform,
each verified with the platform key); the log must extend every one of them. The witness keys
and quorum (h14b) are meant to be added here, beside `checkpoints`, so that `manage.py audit
verify`, the replay page and the API take them in the same way. The offline verifier
(audit/verifier/ptrade_audit_verify.py) mirrors this option handling in its own "trust policy"
section, since it must stay free of Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.signing import NoteError

CHECKPOINT_HELP = ("a checkpoint note you hold (signed by the platform key); fail if the log is shorter "
                   "than it or does not extend it (repeatable)")
MAX_NOTE_CHARS = 4000


@dataclass
class HeldCheckpoint:
    label: str
    note: str

    def open(self) -> tuple[int, bytes]:
        """(size, root) of the note, its platform signature and origin checked (NoteError)."""
        from audit.checkpoints import checkpoint_open

        if len(self.note) > MAX_NOTE_CHARS:
            raise NoteError(f"{self.label} is not a checkpoint note (too long)")
        return checkpoint_open(self.note.replace("\r\n", "\n"))


@dataclass
class TrustPolicy:
    checkpoints: list[HeldCheckpoint] = field(default_factory=list)

    def notes(self) -> list[tuple[str, str]]:
        return [(held.note.replace("\r\n", "\n"), held.label) for held in self.checkpoints]


def trust_add_arguments(parser: Any) -> None:
    """The trust-policy options of a management command."""
    parser.add_argument("--checkpoint", action="append", default=[], metavar="NOTE_FILE", help=CHECKPOINT_HELP)


def trust_from_options(options: dict[str, Any]) -> TrustPolicy:
    """The policy from parsed command options; OSError when a file cannot be read."""
    policy = TrustPolicy()
    for path in options.get("checkpoint") or []:
        policy.checkpoints.append(HeldCheckpoint(f"checkpoint file {path}", Path(path).read_text(encoding="utf-8")))
    return policy


def trust_from_text(*, checkpoint: str = "") -> TrustPolicy:
    """The policy from a form or API field (a pasted checkpoint note)."""
    policy = TrustPolicy()
    if checkpoint.strip():
        text = checkpoint.strip().replace("\r\n", "\n") + "\n"
        policy.checkpoints.append(HeldCheckpoint("your checkpoint", text))
    return policy
