"""Receipts a holder can prove alone (docs/audit.md, "Receipts").

`receipt_issue` signs a receipt for one audit event, in the transaction that wrote the event:
the payload of the calling module plus

    receipt_id        32 lowercase hex digits, random (no count of anything can be read from it)
    audit_origin      the log's origin (the checkpoint's first line)
    audit_seq         the event's position in the log (1-based)
    audit_leaf_hash   SHA-256(0x00 || the event's canonical JSON), hex: the RFC 6962 leaf hash

signed with the platform's Ed25519 key (audit.signing.sign_receipt). The holder (an
organisation or one user) may later fetch `receipt_proof`: the event's canonical JSON, its
inclusion proof and the signed checkpoint the proof leads to, and check all of it offline with
`audit/verifier/ptrade_receipt_verify.py` and only the platform's public key.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import can
from audit import checkpoints, witnessing
from audit.canonical import canonical_bytes
from audit.checkpoints import LogInconsistent
from audit.models import AuditEvent, Receipt
from audit.services import leaf_hash
from audit.signing import sign_receipt
from config.errors import NotFoundError

RECEIPT_FIELDS = ("receipt_id", "audit_origin", "audit_seq", "audit_leaf_hash")


@transaction.atomic
def receipt_issue(*, event: AuditEvent, payload: dict[str, Any], holder_org: Any = None,
                  holder_user: Any = None) -> dict[str, Any]:
    """Sign and keep a receipt for `event` (call in the transaction that wrote it); returns
    {"receipt": {...}, "signature": ..., "key_id": ...}."""
    if (holder_org is None) == (holder_user is None):
        raise ValueError("a receipt has exactly one holder: an organisation or a user")
    clash = set(RECEIPT_FIELDS) & set(payload)
    if clash:
        raise ValueError(f"receipt payload must not set {sorted(clash)}")
    receipt_id = secrets.token_hex(16)
    signed = sign_receipt({**payload, "receipt_id": receipt_id, "audit_origin": str(settings.AUDIT_LOG_ORIGIN),
                           "audit_seq": event.seq, "audit_leaf_hash": event.hash})
    Receipt.objects.create(id=receipt_id, seq=event.seq, leaf_hash=event.hash, kind=event.action,
                           holder_org=holder_org, holder_user=holder_user, signed=signed)
    return signed


def receipt_get(*, user: Any, receipt_id: str) -> Receipt:
    """The receipt if `user` holds it; 404 alike for "not yours" and "does not exist"."""
    receipt = Receipt.objects.filter(pk=receipt_id).first() if isinstance(receipt_id, str) else None
    if receipt is None or not can(user, "audit.view_receipt", receipt):
        raise NotFoundError(_("No such receipt."))
    return receipt


def receipt_proof(*, user: Any, receipt_id: str) -> dict[str, Any]:
    """What the holder needs to prove its receipt offline: the signed receipt, the event's
    canonical JSON, the RFC 6962 inclusion proof of its leaf and the signed checkpoint (note
    text, with any witness cosignature lines) of the tree the proof leads to. Signs a
    checkpoint first if none covers the event yet (as an export does)."""
    receipt = receipt_get(user=user, receipt_id=receipt_id)
    event = AuditEvent.objects.filter(seq=receipt.seq).first()
    if event is None:
        raise LogInconsistent(_("The event of this receipt is missing from the audit log."))
    text = canonical_bytes(event.as_dict())
    if leaf_hash(text) != receipt.leaf_hash or event.hash != receipt.leaf_hash:
        raise LogInconsistent(_("The event of this receipt no longer matches the receipt's leaf hash."))
    # The latest witnessed checkpoint (docs/witness.md) that covers the event; else the latest one,
    # sent to the witnesses first when it lacks its quorum (as an export does).
    target = witnessing.latest_published()
    if target is None or target.tree_size < receipt.seq:
        target = checkpoints.checkpoint_latest()
        if target is None or target.tree_size < receipt.seq:
            target = checkpoints.checkpoint_create()
    proof = checkpoints.inclusion_proof(seq=receipt.seq, tree_size=target.tree_size)
    note = witnessing.export_note(proof.checkpoint if proof.checkpoint is not None else target)
    return {
        "receipt": receipt.signed,
        "event": text.decode("utf-8"),
        "leaf_index": proof.leaf_index,
        "tree_size": proof.tree_size,
        "inclusion": [h.hex() for h in proof.hashes],
        "checkpoint": note,
    }
