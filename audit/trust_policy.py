"""Trust policy for checking the audit log: witness keys and a quorum (docs/witness.md).

Django-free. A checkpoint counts only when at least `quorum` distinct witnesses of the policy
cosigned it with a valid C2SP tlog-cosignature/v1 line (`witness.notes.cosignature_time`);
cosignature lines by other keys are ignored. Used by `manage.py audit verify` and the replay
page; audit/verifier/ptrade_audit_verify.py holds a copy of this logic (one file for
supervisors).

Sources, combined:
- `--witness VKEY` (repeatable): a witness verifier key "<name>+<hex key ID>+<base64(0x04 ||
  key)>", or the path of a file holding one;
- `--quorum N` (default 1, at most the number of witnesses);
- `--trust-policy FILE`: JSON {"witnesses": ["<vkey>", ...], "quorum": N}.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from witness import notes


class PolicyError(ValueError):
    """An unusable policy, or a checkpoint that does not satisfy it."""


@dataclass
class TrustPolicy:
    witnesses: list[notes.Verifier] = field(default_factory=list)
    quorum: int = 1

    def describe(self) -> str:
        return f"{self.quorum} of {', '.join(w.name for w in self.witnesses)}"

    def valid_witnesses(self, note: str) -> list[str]:
        """Names of the policy's witnesses with a valid cosignature on the checkpoint `note`."""
        text, signatures = notes.split_note(note)
        return [w.name for w in self.witnesses if notes.cosignature_time(text, signatures, w) is not None]

    def check(self, note: str) -> list[str]:
        """The witnesses that cosigned `note`; PolicyError when fewer than the quorum."""
        try:
            valid = self.valid_witnesses(note)
        except notes.NoteError as exc:
            raise PolicyError(f"malformed checkpoint note: {exc}") from exc
        if len(valid) < self.quorum:
            raise PolicyError(f"the checkpoint has {len(valid)} valid cosignature(s) from the trusted witnesses "
                              f"({', '.join(valid) or 'none'}); the trust policy requires {self.describe()}")
        return valid


def _read_vkey(value: str, allow_files: bool) -> notes.Verifier:
    text = value
    if allow_files and os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            text = f.read().strip()
    verifier = notes.parse_vkey(text)
    if verifier.kind != notes.SIG_COSIGNATURE_V1:
        raise PolicyError(f"{verifier.name}: not a witness (cosignature/v1, 0x04) key")
    return verifier


def policy_load(*, witnesses: Iterable[str] = (), quorum: int | None = None,
                policy_file: str | None = None, allow_files: bool = True) -> TrustPolicy | None:
    """The policy from command-line style options; None when none was given. Web input passes
    allow_files=False: keys only, never a path on the server."""
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
        return None
    try:
        verifiers = [_read_vkey(k, allow_files) for k in keys]
    except notes.NoteError as exc:
        raise PolicyError(str(exc)) from exc
    unique = list({(v.name, v.public_key): v for v in verifiers}.values())
    wanted = quorum if quorum is not None else (file_quorum if file_quorum is not None else 1)
    if not isinstance(wanted, int) or not 1 <= wanted <= len(unique):
        raise PolicyError(f"the quorum must be between 1 and the number of witnesses ({len(unique)})")
    return TrustPolicy(unique, wanted)
