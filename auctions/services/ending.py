"""The end of a trade: custodians release shares, the reserve is unsealed, the trade is decided,
the confirmation (成交确认书) issued, deposits settled and the result published."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

import sbe1
from accounts.policy import authorize
from auctions import engine, rules
from auctions import reserve as sealing
from auctions.models import Buyer, Confirmation, CustodianShare, Trade, TradeStatus
from auctions.services import buyers as buyer_services
from auctions.services.common import emit, lock
from audit.canonical import canonical_bytes, format_timestamp
from audit.services import audit_record
from audit.signing import sign_receipt
from config.errors import DomainError, StateConflict
from trading import clock


@transaction.atomic
def share_release(*, actor: Any, trade: Trade, share: Any) -> Trade:
    """A custodian releases its decrypted share (sbe1 ReleasedShare JSON), accepted only after bidding
    closed (server time); with the threshold reached the reserve is unsealed and the trade decided."""
    from auctions.services.bidding import _advance_locked

    trade = lock(trade)
    trade = _advance_locked(trade, clock.deadline_now())
    row = CustodianShare.objects.select_for_update().filter(trade=trade, custodian=actor).first()
    if row is None:
        authorize(actor, "auction.release_share", None)  # not a custodian of this trade: 403
        raise StateConflict(_("You hold no share of this trade's opening key."), code="not_custodian", status=403)
    if trade.status != TradeStatus.CLOSED:
        raise StateConflict(_("Shares of the reserve's key are accepted only once bidding has closed "
                              "(the reserve stays secret until the end; %(source)s).")
                            % {"source": rules.RESERVE_SOURCE}, code="not_closed")
    if row.released is not None:
        raise StateConflict(_("You have released your share already."), code="share_released")
    try:
        released = sbe1.parse_released_share(share)
    except sbe1.SBE1Error as exc:
        raise DomainError(_("The share is malformed: %(why)s") % {"why": exc.args[0]}, code="bad_share",
                          fields={"share": [exc.code]}) from None
    if released.opening_key_id != trade.opening_key_id or released.share.x != row.x:
        raise DomainError(_("This share belongs to another key or custodian."), code="bad_share",
                          fields={"share": ["wrong key or x"]})
    row.released = json.loads(released.to_json_bytes())
    row.released_at = clock.now()
    row.save(update_fields=["released", "released_at"])
    audit_record(actor=actor, action="auction.share_released", obj=trade, data={"x": row.x, "role": row.role})
    rows = list(CustodianShare.objects.filter(trade=trade, released__isnull=False).order_by("x"))
    if len(rows) >= trade.threshold:
        _unseal_and_decide(trade, rows)
    return trade


def _unseal_and_decide(trade: Trade, rows: list[CustodianShare]) -> None:
    now = clock.now()
    if sealing.sealed_sha256(trade.reserve_sealed) != trade.reserve_sealed_sha256 or not _audited_seal(trade):
        audit_record(actor="system", action="auction.reserve_tampered", obj=trade,
                     data={"stored_sha256": sealing.sealed_sha256(trade.reserve_sealed)})
        raise StateConflict(_("The stored sealed reserve no longer matches the one sealed in the audit log; "
                              "the trade cannot be decided."), code="reserve_tampered")
    try:
        private = sbe1.combine_released([sbe1.parse_released_share(r.released) for r in rows])
        value = sealing.open_reserve(trade.reserve_sealed, private_key=private, trade=str(trade.public_id))
    except (sbe1.SBE1Error, sealing.ReserveError) as exc:
        raise DomainError(_("The reserve could not be unsealed: %(why)s") % {"why": exc.args[0]},
                          code="unseal_failed") from None
    del private
    trade.reserve, trade.reserve_opened_at = value, now
    trade.save(update_fields=["reserve", "reserve_opened_at"])
    audit_record(actor="system", action="auction.reserve_opened", obj=trade,
                 data={"reserve": value, "sealed_sha256": trade.reserve_sealed_sha256})
    decide_locked(trade, reserve=value, at=now)


def _audited_seal(trade: Trade) -> bool:
    """The last reserve_sealed audit event of the trade names the stored hash (the chain is append-only)."""
    from audit.models import AuditEvent

    event = (AuditEvent.objects.filter(object=f"auctions.trade:{trade.pk}", action="auction.reserve_sealed")
             .order_by("-seq").first())
    return event is not None and event.data.get("sealed_sha256") == trade.reserve_sealed_sha256


def decide_locked(trade: Trade, *, reserve: Decimal | None, at: datetime) -> None:
    """Sold / not sold; deposits settled; confirmation issued; result due in the legal period."""
    holder = Buyer.objects.get(pk=trade.holder_id) if trade.holder_id else None
    if reserve is None:
        outcome, reason = engine.NOT_SOLD, trade.outcome_reason or "no_bids"
    else:
        outcome = engine.decide(price=trade.price, holder=holder.number if holder else None, reserve=reserve)
        reason = "reserve_met" if outcome == engine.SOLD else "below_reserve"
    trade.status = TradeStatus.SOLD if outcome == engine.SOLD else TradeStatus.NOT_SOLD
    trade.decided_at = at
    trade.outcome_reason = reason
    ended = trade.closed_at or at
    trade.result_due_at = rules.result_due(trade.kind, ended)
    trade.refund_due_at = rules.refund_due(trade.kind, ended)
    trade.save(update_fields=["status", "decided_at", "outcome_reason", "result_due_at", "refund_due_at"])
    buyer_services.numbers_reveal(trade)
    audit_record(actor="system", action="auction.decided", obj=trade, data={
        "outcome": outcome, "reason": reason, "price": trade.price, "number": holder.number if holder else None,
        "reserve": reserve, "bids": trade.bid_count, "result_due_at": trade.result_due_at,
        "source": rules.BID_RULE_SOURCE})
    winner = holder if outcome == engine.SOLD else None
    buyer_services.refund_losers(trade, winner=winner, due_at=trade.refund_due_at)
    if winner is not None:
        buyer_services.apply_winner_deposit(winner, price=trade.price)
        confirmation_issue(trade=trade, winner=winner, at=at)
    emit(trade, "result", {"status": trade.status, "reason": reason, "price": str(trade.price) if trade.price else None,
                           "number": holder.number if holder else None,
                           "reserve": str(reserve) if reserve is not None else None})


def settle_unsold(trade: Trade, *, reason: str) -> None:
    """A stopped trade: every deposit is refunded; the result is due as for any end."""
    trade.decided_at = trade.closed_at
    trade.result_due_at = rules.result_due(trade.kind, trade.closed_at)
    trade.refund_due_at = rules.refund_due(trade.kind, trade.closed_at)
    trade.save(update_fields=["decided_at", "result_due_at", "refund_due_at"])
    audit_record(actor="system", action="auction.decided", obj=trade, data={
        "outcome": "stopped", "reason": reason, "price": None, "number": None, "reserve": None, "bids": 0,
        "result_due_at": trade.result_due_at,
        "source": rules.rules_for(trade.kind).min_buyers.source})
    buyer_services.refund_losers(trade, winner=None, due_at=trade.refund_due_at)
    emit(trade, "result", {"status": trade.status, "reason": reason, "price": None, "number": None, "reserve": None})


def confirmation_document(trade: Trade, winner: Buyer, at: datetime) -> dict:
    org = winner.organisation
    return {
        "v": 1, "type": "auction.confirmation", "trade": str(trade.public_id), "code": trade.code,
        "kind": trade.kind, "title": trade.title, "transferor": {"name": trade.transferor.name,
                                                                 "uscc": trade.transferor.uscc},
        "buyer": {"name": org.name, "uscc": org.uscc, "number": winner.number},
        "price": str(trade.price), "reserve_met": True, "deposit_applied": str(winner.deposit_paid),
        "balance_due": str(trade.price - winner.deposit_paid), "ended_at": format_timestamp(trade.closed_at or at),
        "issued_at": format_timestamp(at), "bids": trade.bid_count,
        "source": "国土资源部令第39号 Art 19*, Art 22*",
    }


def confirmation_issue(*, trade: Trade, winner: Buyer, at: datetime) -> Confirmation:
    document = confirmation_document(trade, winner, at)
    digest = hashlib.sha256(canonical_bytes(document)).hexdigest()
    signed = sign_receipt(document)
    conf = Confirmation.objects.create(trade=trade, buyer=winner, document=document, signed=signed, sha256=digest,
                                       issued_at=at)
    audit_record(actor="system", action="auction.confirmation_issued", obj=trade,
                 data={"sha256": digest, "number": winner.number, "price": trade.price})
    return conf


@transaction.atomic
def result_publish(*, actor: Any, trade: Trade) -> Trade:
    """Publish the result (public page and open data); late → a supervision warning until done."""
    trade = lock(trade)
    authorize(actor, "auction.manage", trade)
    if trade.status not in (TradeStatus.SOLD, TradeStatus.NOT_SOLD, TradeStatus.STOPPED):
        raise StateConflict(_("The trade is not decided yet."), code="not_decided")
    if trade.result_published_at is not None:
        raise StateConflict(_("The result is published already."), code="published")
    now = clock.now()
    trade.result_published_at = now
    trade.save(update_fields=["result_published_at"])
    audit_record(actor=actor, action="auction.result_published", obj=trade, data={
        "status": trade.status, "price": trade.price, "due_at": trade.result_due_at,
        "late": bool(trade.result_due_at and now > trade.result_due_at),
        "source": rules.rules_for(trade.kind).result_publication.source})
    emit(trade, "published", {"at": format_timestamp(now)})
    return trade
