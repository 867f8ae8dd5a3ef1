"""Rebuild every credit record from the audit trail and compare with the database (docs/credit.md).

Each `credit.*` event about a record carries the record's state after the change (`data.record`);
the last event of each record is what the record must be now. `credit_replay()` returns the
states per record number; `credit_replay_check()` lists every difference with the stored rows
(an empty list: every decision replays). The check also verifies that the decision trail points
at exactly those events.
"""

from __future__ import annotations

from typing import Any

from audit.canonical import normalize
from audit.models import AuditEvent
from credit.models import CreditDecision, CreditRecord

RECORD_ACTIONS = ("credit.record_proposed", "credit.record_published", "credit.record_rejected",
                  "credit.appeal_submitted", "credit.appeal_granted", "credit.appeal_refused",
                  "credit.repair_submitted", "credit.repair_granted", "credit.repair_refused")


def credit_replay() -> tuple[dict[str, dict[str, Any]], dict[str, list[int]]]:
    """(state per record number, the seqs of its events) from the audit log alone."""
    states: dict[str, dict[str, Any]] = {}
    seqs: dict[str, list[int]] = {}
    for seq, action, data in (AuditEvent.objects.filter(action__in=RECORD_ACTIONS).order_by("seq")
                              .values_list("seq", "action", "data").iterator()):
        state = data["record"]
        if action == "credit.record_proposed":
            if state["number"] in states:
                raise ValueError(f"seq {seq}: record {state['number']} proposed twice")
        elif state["number"] not in states:
            raise ValueError(f"seq {seq}: {action} before the record was proposed")
        states[state["number"]] = state
        seqs.setdefault(state["number"], []).append(seq)
    return states, seqs


def credit_replay_check() -> list[str]:
    from credit.services import _state

    problems: list[str] = []
    states, seqs = credit_replay()
    stored = {r.number: r for r in CreditRecord.objects.all()}
    for number in sorted(set(states) | set(stored)):
        if number not in stored:
            problems.append(f"{number}: in the audit trail, not in the database")
            continue
        if number not in states:
            problems.append(f"{number}: in the database without any audit event")
            continue
        now = normalize(_state(stored[number]))
        for key in sorted(set(now) | set(states[number])):
            if now.get(key) != states[number].get(key):
                problems.append(f"{number}: {key} is {now.get(key)!r}, "
                                f"the audit trail says {states[number].get(key)!r}")
        trail = list(CreditDecision.objects.filter(record=stored[number]).order_by("audit_seq")
                     .values_list("audit_seq", flat=True))
        if trail != seqs[number]:
            problems.append(f"{number}: decision trail {trail} differs from the audit events {seqs[number]}")
    return problems
