"""Experts' answers to a call coming back through the gateway's inbound webhook.

A reply ("1 AB12CD", "拒绝", …) is matched to an open call by its reference or by the sender's
phone and the code, and applied with `experts.services.draws.assignment_respond`. A message id seen
before is refused (replay protection); every reply is kept as an InboundMessage and audited.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from audit.services import audit_record
from config.errors import StateConflict
from experts.identity import normalize_phone, phone_hash
from experts.models import Assignment, AssignmentStatus, InboundMessage
from experts.services.draws import assignment_respond
from trading import clock

ACCEPT_WORDS = {"1", "Y", "YES", "ACCEPT", "OK", "接受", "同意", "参加", "是"}
DECLINE_WORDS = {"2", "N", "NO", "DECLINE", "拒绝", "不参加", "否"}


def parse_reply(text: str) -> tuple[str | None, str]:
    """("accept" | "decline" | None, code) from an SMS reply such as "1 AB12CD" or "拒绝"."""
    tokens = (text or "").replace(",", " ").replace("，", " ").split()
    if not tokens:
        return None, ""
    word, code = tokens[0].upper(), (tokens[1] if len(tokens) > 1 else "")
    if word in ACCEPT_WORDS:
        return "accept", code
    if word in DECLINE_WORDS:
        return "decline", code
    return None, code


def _match(sender: str, ref: str, code: str) -> Assignment | None:
    if ref:
        return Assignment.objects.filter(response_nonce=ref).first()
    phone = normalize_phone(sender)
    if not phone:
        return None
    calls = Assignment.objects.filter(status=AssignmentStatus.NOTIFIED, expert__phone=phone)
    if code:
        calls = calls.filter(response_nonce__istartswith=code)
    calls = list(calls[:2])
    return calls[0] if len(calls) == 1 else None


@transaction.atomic
def reply_receive(*, message_id: str, channel: str, sender: str, text: str, ref: str = "") -> InboundMessage:
    """Apply a reply the gateway received. A message id seen before is refused (replay protection)."""
    now = clock.now()
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(message_id=message_id[:100], channel=channel,
                                                    sender_hash=phone_hash(sender), text=(text or "")[:500],
                                                    received_at=now, outcome="received")
    except IntegrityError:
        raise StateConflict("This message was already received.", code="replayed") from None
    decision, code = parse_reply(text)
    assignment = _match(sender, ref, code)
    if decision is None:
        outcome = "ignored: not an answer"
    elif assignment is None:
        outcome = "ignored: no open call matches"
    else:
        try:
            assignment_respond(actor="system", assignment=assignment, accept=decision == "accept", via=channel)
            outcome = "accepted" if decision == "accept" else "declined"
        except StateConflict as exc:
            outcome = f"refused: {exc.code}"
    inbound.outcome, inbound.assignment = outcome, assignment
    inbound.save(update_fields=["outcome", "assignment"])
    data = {"message": inbound.pk, "channel": channel, "outcome": outcome}
    if assignment is not None:
        data.update(tender=assignment.draw.tender_id, lot=assignment.draw.lot_id, draw=assignment.draw_id,
                    assignment=assignment.pk)
    audit_record(actor="system", action="expert_reply.received", obj=inbound, data=data)
    return inbound
