"""Buyers: application (竞买申请), qualification review, deposit sub-account and booking, bidder number."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Min, Sum
from django.utils.translation import gettext as _

from accounts.policy import authorize
from auctions import rules
from auctions.models import Buyer, BuyerStatus, DepositArrival, DepositState, Trade, TradeStatus
from auctions.services.common import lock, money
from audit.services import audit_record
from config.errors import DomainError, RuleViolation, StateConflict
from credit.services import access_check
from trading import clock
from trading.deposits import conf as deposit_conf
from trading.deposits.services.origin_refunds import OriginPayment, origin_refund_instruct
from trading.deposits.vaccount import make_virtual_account, normalize_account_number

MAX_DOCUMENTS = 20
APPLY_STATUSES = (TradeStatus.PUBLISHED, TradeStatus.LISTING)
NUMBER_DIGITS = 6
# The key under which auction deposits are refunded by the deposits' bank instructions
# (trading/deposits/origins.py; registered by auctions/refunds.py): origin_ref = the Buyer's pk.
REFUND_ORIGIN = "auctions.buyer"


def number_commitment(buyer: Buyer) -> str:
    """SHA-256 over the buyer's public id and number: what the audit chain holds until the end."""
    return hashlib.sha256(f"ptrade-bidder-number-v1\n{buyer.public_id}\n{buyer.number}".encode()).hexdigest()


def _documents(documents: Any) -> list[dict]:
    if not isinstance(documents, list) or not documents or len(documents) > MAX_DOCUMENTS:
        raise DomainError(_("List the application documents (1 to %(n)s).") % {"n": MAX_DOCUMENTS},
                          fields={"documents": ["1 to 20 entries"]})
    out = []
    for d in documents:
        if (not isinstance(d, dict) or not isinstance(d.get("name"), str) or not d["name"].strip()
                or not isinstance(d.get("sha256"), str) or len(d["sha256"]) != 64
                or any(c not in "0123456789abcdef" for c in d["sha256"])
                or not isinstance(d.get("size"), int) or isinstance(d.get("size"), bool) or d["size"] < 0):
            raise DomainError(_("Each document has a name, a size in bytes and its SHA-256 (hex)."),
                              fields={"documents": ["name, size, sha256"]})
        out.append({"name": d["name"].strip()[:200], "size": d["size"], "sha256": d["sha256"]})
    return out


@transaction.atomic
def buyer_apply(*, actor, trade: Trade, documents: Any) -> Buyer:
    """A buyer organisation applies; it gets its virtual deposit sub-account at once."""
    trade = lock(trade)
    authorize(actor, "auction.apply", trade)
    if trade.status not in APPLY_STATUSES:
        raise StateConflict(_("Applications are accepted from the notice until bidding starts."),
                            code="applications_closed")
    access_check(actor.organisation_id, "auction_bidding", at=clock.now())  # market access (docs/credit.md)
    docs = _documents(documents)
    if Buyer.objects.filter(trade=trade, organisation_id=actor.organisation_id).exists():
        raise StateConflict(_("Your organisation has applied already."), code="already_applied")
    now = clock.now()
    prefix = deposit_conf.virtual_account_prefix()
    for _attempt in range(10):
        try:
            with transaction.atomic():
                buyer = Buyer.objects.create(trade=trade, organisation_id=actor.organisation_id, applied_by=actor,
                                             applied_at=now, documents=docs,
                                             deposit_account=make_virtual_account(prefix))
            break
        except IntegrityError:
            if Buyer.objects.filter(trade=trade, organisation_id=actor.organisation_id).exists():
                raise StateConflict(_("Your organisation has applied already."), code="already_applied") from None
    else:  # pragma: no cover - ten collisions in 10^12 numbers
        raise StateConflict(_("Could not allocate a virtual sub-account; try again."), code="account_allocation")
    audit_record(actor=actor, action="auction.buyer_applied", obj=buyer,
                 data={"trade": trade.pk, "organisation": buyer.organisation_id,
                       "documents": [{"name": d["name"], "sha256": d["sha256"]} for d in docs]})
    return buyer


@transaction.atomic
def buyer_review(*, actor, buyer: Buyer, qualified: bool, note: str = "") -> Buyer:
    """The agent's qualification review (资格审查); a qualified buyer with its deposit gets a number."""
    lock(buyer.trade)
    buyer = Buyer.objects.select_for_update().get(pk=buyer.pk)
    authorize(actor, "auction.review", buyer.trade)
    if buyer.trade.status not in APPLY_STATUSES:
        raise StateConflict(_("Qualification is reviewed before bidding starts."), code="review_closed")
    if buyer.status != BuyerStatus.APPLIED:
        raise StateConflict(_("This application is reviewed already."), code="reviewed")
    if not qualified and not (note or "").strip():
        raise DomainError(_("Give the reason for a rejection."), fields={"note": ["required when rejecting"]})
    buyer.status = BuyerStatus.QUALIFIED if qualified else BuyerStatus.REJECTED
    buyer.reviewed_by, buyer.reviewed_at, buyer.review_note = actor, clock.now(), (note or "").strip()[:500]
    buyer.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_record(actor=actor, action="auction.buyer_qualified" if qualified else "auction.buyer_rejected",
                 obj=buyer, data={"trade": buyer.trade_id, "note": buyer.review_note})
    if not qualified and buyer.deposit_paid > 0:
        _refund_due(buyer, reason="rejected")
    _maybe_number(buyer)
    return buyer


def _maybe_number(buyer: Buyer) -> None:
    """Give the bidder number once qualified and paid. Random, so it tells nothing about order;
    the audit chain holds only its commitment until the trade ends (numbers → names stay with
    the supervisor; docs/auctions.md, "Bidder numbers")."""
    if buyer.number or buyer.status != BuyerStatus.QUALIFIED or buyer.deposit_state != DepositState.PAID:
        return
    taken = set(Buyer.objects.filter(trade_id=buyer.trade_id).exclude(number="").values_list("number", flat=True))
    while True:
        number = f"{secrets.randbelow(10 ** NUMBER_DIGITS):0{NUMBER_DIGITS}d}"
        if number not in taken:
            break
    buyer.number = number
    buyer.save(update_fields=["number"])
    audit_record(actor="system", action="auction.number_assigned", obj=buyer,
                 data={"trade": buyer.trade_id, "number_commitment": number_commitment(buyer)})


@transaction.atomic
def deposit_arrival_book(*, account_number: str, amount: Any, payer_account: str, txn_id: str,
                         booked_at: datetime | None = None) -> DepositArrival:
    """Book a bank transfer on a buyer's virtual sub-account (called by the bank adapter; idempotent
    by `txn_id`). Bidding is refused until the booked total reaches the trade's deposit."""
    txn_id = (txn_id or "").strip()
    if not txn_id or len(txn_id) > 64:
        raise DomainError(_("A bank transaction id is required."), fields={"txn_id": ["1 to 64 characters"]})
    known = DepositArrival.objects.filter(txn_id=txn_id).first()
    if known is not None:
        return known
    number = normalize_account_number(account_number)
    buyer = Buyer.objects.filter(deposit_account=number).select_related("trade").first()
    if buyer is None:
        raise DomainError(_("No virtual sub-account with this number."), code="unknown_account",
                          fields={"account_number": ["unknown"]}, status=404)
    lock(buyer.trade)
    buyer = Buyer.objects.select_for_update().get(pk=buyer.pk)
    value = money(amount, field="amount")
    payer = normalize_account_number(payer_account)[:40]
    if not payer:
        raise DomainError(_("The payer account is required."), fields={"payer_account": ["required"]})
    arrival = DepositArrival.objects.create(buyer=buyer, txn_id=txn_id, amount=value, payer_account=payer,
                                            booked_at=booked_at or clock.now())
    buyer.deposit_paid += value
    if buyer.deposit_state in (DepositState.NONE, DepositState.INSUFFICIENT):
        buyer.deposit_state = (DepositState.PAID if buyer.deposit_paid >= buyer.trade.deposit_amount
                               else DepositState.INSUFFICIENT)
    buyer.save(update_fields=["deposit_paid", "deposit_state"])
    audit_record(actor="system", action="auction.deposit_booked", obj=buyer, data={
        "trade": buyer.trade_id, "amount": value, "total": buyer.deposit_paid, "state": buyer.deposit_state,
        "txn_hash": hashlib.sha256(txn_id.encode()).hexdigest()})
    if buyer.deposit_state in (DepositState.REFUND_DUE, DepositState.REFUNDED):
        # Money arriving after the refund was due (a rejected applicant, a trade that ended) goes back too.
        _refund_due(buyer, reason="late_arrival")
    _maybe_number(buyer)
    return arrival


@transaction.atomic
def buyer_live_round_declare(*, actor, buyer: Buyer, wants: bool = True) -> Buyer:
    """During the listing: the buyer declares it wants to go on to a timed round if the listing ends
    with several bidders (国土资源部令第39号 Art 19*)."""
    trade = lock(buyer.trade)
    buyer = Buyer.objects.select_for_update().get(pk=buyer.pk)
    authorize(actor, "auction.bid_as", buyer)
    if trade.status not in (TradeStatus.PUBLISHED, TradeStatus.LISTING) or trade.kind != "land_listing":
        raise StateConflict(_("Only during a listing can you ask for a timed round."), code="not_listing")
    buyer.wants_live_round = bool(wants)
    buyer.save(update_fields=["wants_live_round"])
    audit_record(actor=actor, action="auction.live_round_declared", obj=trade,
                 data={"number": buyer.number, "wants": buyer.wants_live_round})
    return buyer


def _refund_due(buyer: Buyer, *, reason: str, due_at: datetime | None = None) -> None:
    """Mark the deposit for refund and instruct the bank: one deposits refund instruction per account the
    money came from (原路退回), without interest (国土资源部令第39号 Art 23*), due at `due_at` (the trade's
    refund_due_at) or the refund period from now. The instructions go out with the deposits' exports
    and come back executed through `auctions/refunds.py` (docs/auctions.md, "Deposit refunds"). Audited;
    idempotent (what earlier instructions cover is not instructed again)."""
    if buyer.deposit_paid <= 0 or buyer.deposit_state == DepositState.APPLIED:
        return
    rule = rules.rules_for(buyer.trade.kind).deposit_refund
    due = due_at or rule.after(clock.now())
    made = origin_refund_instruct(origin=REFUND_ORIGIN, origin_ref=str(buyer.pk), payments=_payments(buyer),
                                  from_account=buyer.deposit_account, due_at=due, trigger=f"auction_{reason}",
                                  legal_source=rule.source)
    if not made and buyer.deposit_state in (DepositState.REFUND_DUE, DepositState.REFUNDED):
        return  # covered already: nothing new to instruct or record
    buyer.deposit_state = DepositState.REFUND_DUE
    buyer.save(update_fields=["deposit_state"])
    audit_record(actor="system", action="auction.deposit_refund_due", obj=buyer,
                 data={"trade": buyer.trade_id, "amount": buyer.deposit_paid, "reason": reason, "due_at": due,
                       "source": rule.source, "instructions": [i.reference for i in made]})


def _payments(buyer: Buyer) -> list[OriginPayment]:
    """What the buyer's sub-account received, by the account it came from (first payer first)."""
    org = buyer.organisation
    basic = normalize_account_number(org.basic_account_number)
    rows = (DepositArrival.objects.filter(buyer=buyer).values("payer_account")
            .annotate(total=Sum("amount"), first=Min("booked_at")).order_by("first", "payer_account"))
    return [OriginPayment(payee_account=r["payer_account"], amount=r["total"],
                          payee_name=(org.basic_account_name or org.name) if r["payer_account"] == basic else "",
                          payee_bank=org.basic_account_bank if r["payer_account"] == basic else "")
            for r in rows]


@transaction.atomic
def deposit_refund_executed(*, buyer: Buyer, txn_id: str) -> Buyer:
    """The bank reports the refund paid (idempotent). Called by the refund origin's handler
    (auctions/refunds.py) once the bank executed every instruction of the buyer's deposit."""
    buyer = Buyer.objects.select_for_update().get(pk=buyer.pk)
    if buyer.deposit_state == DepositState.REFUNDED:
        return buyer
    if buyer.deposit_state != DepositState.REFUND_DUE:
        raise StateConflict(_("No refund is due on this sub-account."), code="no_refund_due")
    buyer.deposit_state = DepositState.REFUNDED
    buyer.deposit_settled_at = clock.now()
    buyer.save(update_fields=["deposit_state", "deposit_settled_at"])
    audit_record(actor="system", action="auction.deposit_refunded", obj=buyer,
                 data={"trade": buyer.trade_id, "amount": buyer.deposit_paid,
                       "txn_hash": hashlib.sha256(txn_id.encode()).hexdigest()})
    return buyer


def eligible(trade: Trade) -> list[Buyer]:
    """Buyers who may bid: qualified, deposit booked, numbered."""
    return [b for b in Buyer.objects.filter(trade=trade, status=BuyerStatus.QUALIFIED,
                                            deposit_state=DepositState.PAID).exclude(number="")]


def refund_losers(trade: Trade, *, winner: Buyer | None, due_at: datetime) -> None:
    for buyer in Buyer.objects.select_for_update().filter(trade=trade).order_by("pk"):
        if winner is not None and buyer.pk == winner.pk:
            continue
        _refund_due(buyer, reason="not_winner", due_at=due_at)


def apply_winner_deposit(winner: Buyer, *, price: Decimal) -> None:
    """The winner's deposit counts toward the price (国土资源部令第39号 Art 23*)."""
    winner = Buyer.objects.select_for_update().get(pk=winner.pk)
    winner.deposit_state = DepositState.APPLIED
    winner.deposit_settled_at = clock.now()
    winner.save(update_fields=["deposit_state", "deposit_settled_at"])
    audit_record(actor="system", action="auction.deposit_applied", obj=winner,
                 data={"trade": winner.trade_id, "amount": winner.deposit_paid, "price": price,
                       "balance_due": price - winner.deposit_paid})


def numbers_reveal(trade: Trade) -> None:
    """At the end, the number → buyer mapping enters the audit chain (the commitments can be checked)."""
    rows = Buyer.objects.filter(trade=trade).exclude(number="").order_by("number")
    audit_record(actor="system", action="auction.numbers_revealed", obj=trade,
                 data={"numbers": [{"number": b.number, "buyer": b.pk, "organisation": b.organisation_id,
                                    "public_id": str(b.public_id)} for b in rows]})


__all__ = ["RuleViolation"]
