"""Sealed audit events: per-tender salted commitments, opened at the bid deadline (docs/audit.md).

Before a tender's bid deadline the log must not tell who registered, paid a deposit, asked a
question, objected or bid, nor how many did (电子招标投标办法 Arts 20–21; DOMAIN.md). An event
about such a fact is therefore not written as itself. `sealed_record` writes instead

    {"action": "sealed.committed", "actor": "system", "object": "sealed",
     "data": {"scheme": "ptrade-seal-v1", "commitment": "<64 hex>"}}

where the commitment is HMAC-SHA256 keyed with the tender's secret seal salt over the canonical
JSON of the *opening*: the event it stands for plus a fresh nonce,

    {"action", "actor", "data", "nonce": "<32 hex, 16 random bytes>", "object", "tender": <id>}

Every sealed event of every tender and kind looks the same (one action, one object, no tender,
no lot, a fresh nonce each time): nothing links two of them, an organisation, or a tender, and
their number per tender cannot be told. The opening waits in `SealedOpening` (not in the log).
At the bid deadline the `tender.status_changed` event to `bidding_closed` publishes the salt and
every opening (`"seal_salt"`, `"sealed": [{"seq", "opening"}]`), so anyone holding the log can
recompute each commitment and read the events as if they had been written in clear.

Ordering: `sealed_record` takes the chain lock and then re-reads `bidding_closed_at`; the reveal
takes the chain lock before it collects the openings and holds it until it commits. A sealed event
is therefore either in the reveal or written in clear after it, never lost between the two.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from audit.canonical import dumps, normalize
from audit.models import AuditEvent, SealedOpening
from audit.services import actor_id, audit_record, chain_lock, object_ref, refuse_secrets

SCHEME = "ptrade-seal-v1"
SEALED_ACTION = "sealed.committed"
SEALED_OBJECT = "sealed"


def commitment(salt: str, opening: Mapping[str, Any]) -> str:
    """HMAC-SHA256(key = the salt's ASCII bytes, message = canonical JSON of the opening), hex."""
    return hmac.new(salt.encode("ascii"), dumps(normalize(dict(opening))), hashlib.sha256).hexdigest()


def value_commitment(salt: str, label: str, value: Any) -> str:
    """A commitment to one value (e.g. a count) inside an otherwise clear event: the commitment of
    the opening {"label": label, "value": value} (no nonce: the salt is secret and the label unique)."""
    return commitment(salt, {"label": label, "value": value})


def _sealed_now(tender) -> bool:
    """Read fresh (after the chain lock): does the tender's seal still hold (`Tender.audit_seal_holds`)?"""
    fresh = type(tender).objects.filter(pk=tender.pk).first()
    return fresh is not None and fresh.audit_seal_holds


def sealed_record(*, tender, actor: Any, action: str, obj: Any, data: dict | None = None) -> AuditEvent:
    """Record an event about a sealed fact of `tender`: a commitment while the tender's seal holds
    (`Tender.audit_seal_holds`: before the deadline step), the event itself (in clear) afterwards.

    Call inside the transaction of the change, like `audit_record`."""
    chain_lock()
    if not _sealed_now(tender):
        return audit_record(actor=actor, action=action, obj=obj, data=data)
    payload = normalize(data or {})
    refuse_secrets(payload)
    opening = {"tender": int(tender.pk), "action": action, "actor": actor_id(actor), "object": object_ref(obj),
               "data": payload, "nonce": secrets.token_hex(16)}
    event = audit_record(actor="system", action=SEALED_ACTION, obj=SEALED_OBJECT,
                         data={"scheme": SCHEME, "commitment": commitment(tender.seal_salt, opening)})
    SealedOpening.objects.create(seq=event.seq, tender_id=tender.pk, opening=opening)
    return event


def seal_reveal(*, tender) -> dict:
    """The data the transition that ends the seal (the deadline, or a cancellation before it) adds
    to reveal `tender`'s sealed events. Call in the transaction that writes that event and changes
    the status: the chain lock is held until it commits."""
    chain_lock()
    rows = SealedOpening.objects.filter(tender_id=tender.pk).order_by("seq").values_list("seq", "opening")
    return {"seal_salt": tender.seal_salt, "sealed": [{"seq": seq, "opening": opening} for seq, opening in rows]}


# --- reading (replay, export, tests) ------------------------------------------------------------


def revealed_openings(reveal_data: Mapping[str, Any]) -> dict[int, dict]:
    """{seq: opening} from the data of a reveal event (empty if it reveals nothing)."""
    items = reveal_data.get("sealed") or []
    return {int(item["seq"]): item["opening"] for item in items if isinstance(item, Mapping)}


def stored_openings(tender_id: int | str) -> dict[int, dict]:
    """Privileged path (supervisors): the openings kept in the database, before the reveal."""
    return dict(SealedOpening.objects.filter(tender_id=int(tender_id)).values_list("seq", "opening"))


def stored_opened(tender_id: int | str, action: str | None = None) -> list[dict]:
    """Privileged path: the opened sealed events of a tender from the database, as event dicts
    (`seq` and the opened actor, action, object and data), optionally of one action."""
    rows = SealedOpening.objects.filter(tender_id=int(tender_id)).order_by("seq").values_list("seq", "opening")
    return [{"seq": seq, "actor": o["actor"], "action": o["action"], "object": o["object"], "data": o["data"]}
            for seq, o in rows if action is None or o["action"] == action]


def stored_event(seq: int) -> dict:
    """Privileged path: event `seq` as it stands, opened from the database if it is sealed."""
    event = AuditEvent.objects.get(seq=seq).as_dict()
    opening = SealedOpening.objects.filter(seq=seq).values_list("opening", flat=True).first()
    return opened_event(event, opening) if opening is not None else event


def opening_verifies(event: AuditEvent | Mapping[str, Any], opening: Mapping[str, Any], salt: str) -> bool:
    """Does `opening` open the sealed event `event` under `salt`?"""
    action = event.action if isinstance(event, AuditEvent) else event.get("action")
    data = event.data if isinstance(event, AuditEvent) else event.get("data") or {}
    return (action == SEALED_ACTION and isinstance(data, Mapping)
            and hmac.compare_digest(str(data.get("commitment", "")), commitment(salt, opening)))


def opened_event(event: Mapping[str, Any], opening: Mapping[str, Any]) -> dict[str, Any]:
    """The event a sealed event stands for: seq, ts and prev of the sealed event, the rest opened."""
    return {**event, "actor": opening["actor"], "action": opening["action"], "object": opening["object"],
            "data": opening["data"], "sealed": True}


def reveal_seqs(events: Iterable[AuditEvent]) -> list[int]:
    out: list[int] = []
    for event in events:
        if isinstance(event.data, Mapping) and event.data.get("sealed"):
            out.extend(revealed_openings(event.data))
    return sorted(out)
