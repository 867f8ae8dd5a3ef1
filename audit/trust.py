"""What a verifier trusts besides the database: the user's trust policy (docs/audit.md,
docs/witness.md "Trust policy").

One trust policy, used the same way by `manage.py audit verify`, the replay page and the API:

- held checkpoints: signed notes kept outside the platform, each verified with the platform key;
  the log must extend every one of them (`--checkpoint NOTE_FILE`, repeatable);
- witness keys and a quorum: a checkpoint counts only when at least `quorum` distinct witnesses
  of the policy cosigned it with a valid C2SP tlog-cosignature/v1 line
  (`witness.notes.cosignature_time`); cosignature lines by other keys are ignored
  (`--witness VKEY_OR_FILE`, repeatable; `--quorum N`, default 1, at most the number of
  witnesses; `--trust-policy FILE`: JSON {"witnesses": ["<vkey>", ...], "quorum": N}).

The offline verifier (audit/verifier/ptrade_audit_verify.py) mirrors this option handling in its
own "trust policy" section, since it must stay a single Django-free file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.checkpoints import checkpoint_open
from audit.signing import NoteError
from witness import notes as wnotes

CHECKPOINT_HELP = ("a checkpoint note you hold (signed by the platform key); fail if the log is shorter "
                   "than it or does not extend it (repeatable)")
MAX_NOTE_CHARS = 4000
MAX_WITNESS_KEYS = 20


class PolicyError(ValueError):
    """An unusable policy, or a checkpoint that does not satisfy it."""


@dataclass
class HeldCheckpoint:
    label: str
    note: str

    def open(self) -> tuple[int, bytes]:
        """(size, root) of the note, its platform signature and origin checked (NoteError)."""
        if len(self.note) > MAX_NOTE_CHARS:
            raise NoteError(f"{self.label} is not a checkpoint note (too long)")
        return checkpoint_open(self.note.replace("\r\n", "\n"))


@dataclass
class TrustPolicy:
    checkpoints: list[HeldCheckpoint] = field(default_factory=list)
    witnesses: list[wnotes.Verifier] = field(default_factory=list)
    quorum: int = 1

    def notes(self) -> list[tuple[str, str]]:
        return [(held.note.replace("\r\n", "\n"), held.label) for held in self.checkpoints]

    def describe(self) -> str:
        return f"{self.quorum} of {', '.join(w.name for w in self.witnesses)}"

    def valid_witnesses(self, note: str) -> list[str]:
        """Names of the policy's witnesses with a valid cosignature on the checkpoint `note`."""
        text, signatures = wnotes.split_note(note)
        return [w.name for w in self.witnesses if wnotes.cosignature_time(text, signatures, w) is not None]

    def check(self, note: str) -> list[str]:
        """The witnesses that cosigned `note`; PolicyError when fewer than the quorum."""
        try:
            valid = self.valid_witnesses(note)
        except wnotes.NoteError as exc:
            raise PolicyError(f"malformed checkpoint note: {exc}") from exc
        if len(valid) < self.quorum:
            raise PolicyError(f"the checkpoint has {len(valid)} valid cosignature(s) from the trusted witnesses "
                              f"({', '.join(valid) or 'none'}); the trust policy requires {self.describe()}")
        return valid


def _read_vkey(value: str, allow_files: bool) -> wnotes.Verifier:
    text = value
    if allow_files and os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            text = f.read().strip()
    verifier = wnotes.parse_vkey(text)
    if verifier.kind != wnotes.SIG_COSIGNATURE_V1:
        raise PolicyError(f"{verifier.name}: not a witness (cosignature/v1, 0x04) key")
    return verifier


def _witnesses_load(policy: TrustPolicy, *, witnesses: Iterable[str], quorum: int | None,
                    policy_file: str | None, allow_files: bool) -> None:
    keys: list[str] = list(witnesses)
    file_quorum = None
    if policy_file and allow_files:
        try:
            with open(policy_file, encoding="utf-8") as f:
                data = json.load(f)
            keys += [str(k) for k in data["witnesses"]]
            file_quorum = data.get("quorum")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PolicyError(f"unusable trust policy file {policy_file}: {exc}") from exc
    if not keys:
        if quorum is not None:
            raise PolicyError("--quorum needs witness keys (--witness or --trust-policy)")
        return
    if len(keys) > MAX_WITNESS_KEYS:
        raise PolicyError(f"at most {MAX_WITNESS_KEYS} witness keys")
    try:
        verifiers = [_read_vkey(k, allow_files) for k in keys]
    except wnotes.NoteError as exc:
        raise PolicyError(str(exc)) from exc
    unique = list({(v.name, v.public_key): v for v in verifiers}.values())
    wanted = quorum if quorum is not None else (file_quorum if file_quorum is not None else 1)
    if not isinstance(wanted, int) or not 1 <= wanted <= len(unique):
        raise PolicyError(f"the quorum must be between 1 and the number of witnesses ({len(unique)})")
    policy.witnesses, policy.quorum = unique, wanted


def trust_add_arguments(parser: Any) -> None:
    """The trust-policy options of a management command."""
    parser.add_argument("--checkpoint", action="append", default=[], metavar="NOTE_FILE", help=CHECKPOINT_HELP)
    parser.add_argument("--witness", action="append", default=[], metavar="VKEY_OR_FILE",
                        help="a trusted witness verifier key (or a file holding one), repeatable")
    parser.add_argument("--quorum", type=int, help="cosignatures required from those witnesses (default 1)")
    parser.add_argument("--trust-policy", metavar="FILE",
                        help='JSON {"witnesses": ["<vkey>", ...], "quorum": N}')


def trust_from_options(options: dict[str, Any]) -> TrustPolicy:
    """The policy from parsed command options; OSError when a checkpoint file cannot be read,
    PolicyError for unusable witness keys or quorum."""
    policy = TrustPolicy()
    for path in options.get("checkpoint") or []:
        policy.checkpoints.append(HeldCheckpoint(f"checkpoint file {path}", Path(path).read_text(encoding="utf-8")))
    _witnesses_load(policy, witnesses=options.get("witness") or (), quorum=options.get("quorum"),
                    policy_file=options.get("trust_policy"), allow_files=True)
    return policy


def trust_from_text(*, checkpoint: str = "", witnesses: Iterable[str] = (), quorum: int | None = None) -> TrustPolicy:
    """The policy from a form or API fields (a pasted checkpoint note, witness verifier keys, one
    per line or repeated, and a quorum); keys only, never a path on the server. PolicyError for
    unusable keys or quorum."""
    policy = TrustPolicy()
    if checkpoint.strip():
        text = checkpoint.strip().replace("\r\n", "\n") + "\n"
        policy.checkpoints.append(HeldCheckpoint("your checkpoint", text))
    keys = [k.strip() for value in witnesses for k in value.splitlines() if k.strip()]
    _witnesses_load(policy, witnesses=keys, quorum=quorum, policy_file=None, allow_files=False)
    return policy


def policy_load(*, witnesses: Iterable[str] = (), quorum: int | None = None,
                policy_file: str | None = None, allow_files: bool = True) -> TrustPolicy | None:
    """Witness keys + quorum only (no held checkpoint); None when no witness was given."""
    policy = TrustPolicy()
    _witnesses_load(policy, witnesses=witnesses, quorum=quorum, policy_file=policy_file, allow_files=allow_files)
    return policy if policy.witnesses else None
