"""The one place where the evaluation reads other modules' data and calls their entry points.

- the opening (trading/opening, trading/bids): the decrypted read-out of every bid of a lot;
- the expert drawing (experts/): the lot's panel, its reveal at sign-in, a member leaving;
- the deposits (trading/deposits): refund scheduling after the award / the contract, forfeit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from config.errors import StateConflict
from experts.models import Assignment, AssignmentStatus, Draw, DrawStatus
from experts.services.draws import assignment_leave, panel_reveal
from trading.deposits.services.forfeit import deposit_forfeit
from trading.deposits.services.refunds import (
    deposit_refunds_schedule_after_award,
    deposit_refunds_schedule_after_contract,
)
from trading.evaluation.models import Award, AwardStatus
from trading.models import BidOpening, BidOpeningStatus, LotOpening, LotOutcome, Opening, OpeningState, Registration

# --- the opening: decrypted bids ------------------------------------------------------------------


@dataclass(frozen=True)
class ReadoutRow:
    bid_ref: int | None
    registration_id: int | None
    bidder_id: int
    price: Decimal
    currency: str
    readout: dict
    received_at: datetime
    envelope_sha256: str
    files: list = field(default_factory=list)


def _price(value) -> Decimal:
    try:
        price = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise StateConflict(_("A decrypted bid has no valid price in its read-out."), code="bad_readout") from None
    if not price.is_finite() or price <= 0:
        raise StateConflict(_("A decrypted bid has no valid price in its read-out."), code="bad_readout")
    return price.quantize(Decimal("0.01"))


def readout_rows(lot) -> list[ReadoutRow]:
    """The bids of `lot` that were decrypted and read out at a closed opening (唱标), in receipt order.

    Bids whose decryption failed (revoked or withdrawn, 电子招标投标办法 Art 31) are not evaluated.
    """
    lot_opening = LotOpening.objects.filter(lot=lot).select_related("opening").first()
    if lot_opening is None or lot_opening.opening.state != OpeningState.CLOSED:
        raise StateConflict(
            _("The opening of this lot is not closed: the evaluation starts after the opening record."),
            code="opening_not_closed",
        )
    if lot_opening.outcome != LotOutcome.OPENED:
        raise StateConflict(_("This lot failed at the opening: there is nothing to evaluate."), code="lot_failed")
    rows = []
    qs = (
        BidOpening.objects.filter(bid__lot=lot, status=BidOpeningStatus.DECRYPTED)
        .select_related("bid")
        .order_by("bid__received_at", "bid_id")
    )
    for opened in qs:
        bid = opened.bid
        readout = dict(opened.readout or {})
        rows.append(
            ReadoutRow(
                bid_ref=bid.pk,
                registration_id=bid.registration_id,
                bidder_id=bid.bidder_id,
                price=_price(readout.get("price")),
                currency=str(readout.get("currency") or "CNY"),
                readout=readout,
                received_at=bid.received_at,
                envelope_sha256=bid.envelope_sha256,
                files=list(opened.files or []),
            )
        )
    return rows


def bidders_public(tender) -> list[int] | None:
    """Organisation ids of the bidders whose bids were opened (read out by name at the opening), once
    the opening is closed or failed; None before (the bidder list is sealed until then)."""
    opening = Opening.objects.filter(tender=tender).first()
    if opening is None or opening.state not in (OpeningState.CLOSED, OpeningState.FAILED):
        return None
    return sorted(set(BidOpening.objects.filter(opening=opening).values_list("bid__bidder_id", flat=True)))


def opening_closed_at(tender):
    """When the tender's opening was closed (or failed), None before or without an opening."""
    opening = Opening.objects.filter(tender=tender).first()
    if opening is None or opening.state not in (OpeningState.CLOSED, OpeningState.FAILED):
        return None
    return opening.closed_at or opening.phase_started_at


# --- the expert drawing: panel, reveal, leave -----------------------------------------------------


@dataclass(frozen=True)
class PanelSeat:
    seat: int
    assignment_id: int
    expert_id: int
    user_id: int | None
    name: str
    expert_hash: str


@dataclass(frozen=True)
class Panel:
    draw_id: int
    seats: int
    revealed: bool


def panel_for(lot) -> Panel:
    """The lot's drawn panel (the latest draw that is not cancelled), complete and without open calls."""
    draw = Draw.objects.filter(lot=lot).exclude(status=DrawStatus.CANCELLED).order_by("-created_at", "-pk").first()
    if draw is None:
        raise StateConflict(_("No expert committee has been drawn for this lot."), code="no_panel")
    if draw.status != DrawStatus.COMPLETE:
        raise StateConflict(
            _("The committee of this lot is not complete yet (%(status)s).") % {"status": draw.get_status_display()},
            code="panel_incomplete",
        )
    return Panel(draw_id=draw.pk, seats=draw.expert_seats, revealed=draw.revealed_at is not None)


def seat_of(draw_id: int, user) -> PanelSeat | None:
    """The accepted seat of `user` (an expert's account) in the draw, or None."""
    row = (
        Assignment.objects.filter(draw_id=draw_id, status=AssignmentStatus.ACCEPTED, expert__user_id=user.pk,
                                  seat__isnull=False)
        .select_related("expert")
        .first()
    )
    if row is None:
        return None
    return PanelSeat(row.seat, row.pk, row.expert_id, row.expert.user_id, row.expert.name, row.identity_hash)


def draws_of_expert(user) -> list[int]:
    """The draws in which `user` (an expert's account) holds an accepted seat."""
    return list(
        Assignment.objects.filter(expert__user_id=user.pk, status=AssignmentStatus.ACCEPTED)
        .values_list("draw_id", flat=True)
        .distinct()
    )


def accepted_assignments(draw_id: int) -> set[int]:
    accepted = Assignment.objects.filter(draw_id=draw_id, status=AssignmentStatus.ACCEPTED)
    return set(accepted.values_list("pk", flat=True))


def assignment_end_reason(assignment_id: int) -> str:
    row = Assignment.objects.filter(pk=assignment_id).values("status", "left_reason").first()
    if row is None:
        return "assignment removed"
    return f"{row['status']}: {row['left_reason']}".strip(": ")


@dataclass(frozen=True)
class Reveal:
    revealed: bool
    removed: int = 0


def reveal(draw_id: int) -> Reveal:
    """Reveal the panel (experts' `panel_reveal`, the sign-in event). It may remove a member who now
    conflicts (and refill the seat): then `revealed` is False and the caller must let that commit."""
    outcome = panel_reveal(actor="system", draw=Draw.objects.get(pk=draw_id))
    return Reveal(bool(outcome.revealed), int(outcome.removed))


def leave(assignment_id: int, reason: str) -> None:
    """The member leaves the panel (replacement or a declared conflict): experts refills the seat by
    drawing again (实施条例 Art 46)."""
    row = Assignment.objects.get(pk=assignment_id)
    if row.status in (AssignmentStatus.ACCEPTED, AssignmentStatus.NOTIFIED, AssignmentStatus.RESERVE):
        assignment_leave(actor="system", assignment=row, reason=reason)


# --- deposits: refunds and forfeit ----------------------------------------------------------------


def _dotted(fn) -> str:
    return f"{fn.__module__}.{fn.__name__}"


def refunds_after_contract(*, tender, contract_signed_at: datetime, lot=None) -> str:
    """Ask the deposits module to schedule the refunds due after the contract of `lot` (实施条例 Art 57;
    政府采购法实施条例 Art 33 for the winner). Returns the entry point's dotted name (for the audit event)."""
    deposit_refunds_schedule_after_contract(tender=tender, contract_signed_at=contract_signed_at,
                                            **({"lot": lot} if lot is not None else {}))
    return _dotted(deposit_refunds_schedule_after_contract)


def refunds_after_award(*, tender, award_notice_at: datetime) -> str:
    """Government procurement: losers' refunds within 5 working days of the award notice
    (政府采购法实施条例 Art 33). The awarded bidders (every award not declined) keep their deposits."""
    winners = set(Award.objects.filter(tender=tender).exclude(status=AwardStatus.DECLINED)
                  .values_list("bid__bidder_id", flat=True))
    deposit_refunds_schedule_after_award(tender=tender, award_notice_at=award_notice_at, winners=winners)
    return _dotted(deposit_refunds_schedule_after_award)


WINNER_REFUSED = "winner_refused_contract"


def forfeit(*, registration_id: int | None, reason: str, source: str) -> str | None:
    """The winner refuses to sign: its deposit is not returned (实施条例 Art 74). The deposits module takes
    the reason code `winner_refused_contract`, the legal source and the free text as a note. None when
    the winning bid has no registration (nothing to forfeit)."""
    if registration_id is None:
        return None
    deposit_forfeit(registration=Registration.objects.get(pk=registration_id), reason=WINNER_REFUSED,
                    source=source, note=reason)
    return _dotted(deposit_forfeit)
