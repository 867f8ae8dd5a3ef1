"""The evaluation wired to its real neighbours: sealed bids and the opening's read-out, the drawn panel
(sign-in reveals it; a replacement is redrawn by the expert app and voids the member's scores),
and the deposits (refunds armed by the contract's signing date)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from tests.trading.evaluation.helpers import sheet
from tests.trading.evaluation.real import accept_calls, draw_panel, expert_pool, panel_users, pay_deposits, run_opening
from tests.trading.sealed import bidder_with_key, submit
from trading.evaluation.models import MemberStatus, SessionStatus
from trading.evaluation.services import award as award_services
from trading.evaluation.services import publicity as pub
from trading.evaluation.services import reports, sessions
from trading.services.scheduling import steps_run_due

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _bank(settings):
    settings.BANK_WEBHOOK_SECRET = "test-bank-secret"
    settings.DEPOSIT_INTEREST_RATE = Decimal("0.0035")
    settings.DEPOSIT_DAY_COUNT_BASIS = 360


class Bidders:
    """bidder index → SealedBidder, and the world's bidders as `sheet()` expects them (users)."""

    def __init__(self, sealed):
        self.sealed = sealed
        self.bidders = [b.user for b in sealed]


def test_real_opening_panel_and_deposits_from_bids_to_contract(cast, published, clock, api, make_user):
    from trading.models import Bid, DepositAccount
    from trading.services.registrations import registration_create

    tender, lot = published, published.lots.get()
    sealed = [bidder_with_key(u) for u in cast.bidders]
    for b in sealed:
        b.registration, _ = registration_create(actor=b.user, lot=lot)
    pay_deposits(api, [b.registration for b in sealed])
    expert_pool(make_user)
    draw = draw_panel(cast.agent, lot, start=tender.bid_deadline + timedelta(hours=2))
    accept_calls(draw)
    assert draw.status == "complete" and draw.revealed_at is None
    prices = ["980000.00", "950000.00", "990000.00"]
    bids = [submit(lot, b, price=p) for b, p in zip(sealed, prices, strict=True)]
    run_opening(tender, sealed, bids, cast.agent, clock)
    assert tender.status == "evaluating"

    # The session reads the decrypted read-out and binds the drawn panel.
    session = sessions.session_open(actor=cast.agent, lot=lot)
    assert session.draw_id == draw.pk and session.seats == 5
    snapshot = {b.bid_ref: (b.price, b.bidder_id, b.envelope_sha256, b.registration_id) for b in session.bids.all()}
    assert snapshot == {
        Bid.objects.get(public_id=bid["id"]).pk: (Decimal(p), b.org_id, bid["envelope_sha256"], b.registration.pk)
        for bid, p, b in zip(bids, prices, sealed, strict=True)
    }

    # Sign-in reveals the panel (experts' panel_reveal): names and identity salt enter the audit chain.
    users = panel_users(draw)
    world = Bidders(sealed)
    members = []
    for user in users:
        outcome = sessions.member_sign_in(actor=user, session=session)
        members.append(sessions.member_declare(actor=user, member=outcome.member, no_conflict=True))
    draw.refresh_from_db()
    assert draw.revealed_at is not None
    assert AuditEvent.objects.filter(action="expert_panel.revealed", data__draw=draw.pk).count() == 1
    assert [m.seat for m in members] == [1, 2, 3, 4, 5]

    # Seat 2 submits, then is replaced: the expert app promotes the line's reserve, who evaluates afresh.
    sheet(world, session, members[1])
    sessions.member_replace(actor=cast.supervisor, member=members[1], reason="Taken ill")
    members[1].refresh_from_db()
    assert members[1].status == MemberStatus.REPLACED
    left = draw.assignments.get(pk=members[1].assignment_id)
    assert left.status == "left" and "Taken ill" in left.left_reason
    accept_calls(draw)  # the reserve called for seat 2 accepts
    newcomer = draw.assignments.get(seat=2, status="accepted")
    assert newcomer.pk != members[1].assignment_id
    outcome = sessions.member_sign_in(actor=newcomer.expert.user, session=session)
    fresh = sessions.member_declare(actor=newcomer.expert.user, member=outcome.member, no_conflict=True)
    assert fresh.seat == 2 and fresh.marks.count() == 0
    for m in [members[0], fresh, *members[2:]]:
        sheet(world, session, m)
    report = reports.current_report(session)
    assert [c["bidder"] for c in report.content["candidates"]] == [sealed[1].org_id, sealed[0].org_id,
                                                                   sealed[2].org_id]
    assert report.content["voided_members"][0]["seat"] == 2
    for m in [members[0], fresh, *members[2:]]:
        reports.report_sign(actor=m.user, report=report)
    session.refresh_from_db()
    assert session.status == SessionStatus.CONCLUDED

    # Publicity, award, contract; the contract's date arms the deposit refunds (实施条例 Art 57: 5 days).
    publicity = pub.publicity_start(actor=cast.agent, tender=tender)
    clock.move_to(publicity.ends_at + timedelta(seconds=1))
    steps_run_due()
    [award] = award_services.award_publish(actor=cast.agent, tender=tender)
    assert award.bid.bidder_id == sealed[1].org_id
    clock.advance(days=3)
    signed_at = clock.now() - timedelta(hours=2)
    award_services.contract_record(actor=cast.tenderer, award=award, signed_at=signed_at)
    tender.refresh_from_db()
    assert tender.status == "contracted"
    accounts = DepositAccount.objects.filter(tender=tender)
    assert accounts.count() == 3
    assert {(a.refund_trigger, a.refund_deadline) for a in accounts} == {("contract", signed_at + timedelta(days=5))}
    requested = AuditEvent.objects.get(action="deposit_refunds.requested", data__tender=tender.pk)
    assert requested.data["handled_by"] == "trading.deposits.services.refunds.deposit_refunds_schedule_after_contract"


def test_a_winner_refusing_to_sign_forfeits_its_real_deposit(cast, published, clock, api, make_user):
    from trading.models import DepositAccount
    from trading.services.registrations import registration_create

    tender, lot = published, published.lots.get()
    sealed = [bidder_with_key(u) for u in cast.bidders]
    for b in sealed:
        b.registration, _ = registration_create(actor=b.user, lot=lot)
    pay_deposits(api, [b.registration for b in sealed])
    expert_pool(make_user)
    draw = draw_panel(cast.agent, lot, start=tender.bid_deadline + timedelta(hours=2))
    accept_calls(draw)
    bids = [submit(lot, b, price=p) for b, p in zip(sealed, ["300.00", "200.00", "100.00"], strict=True)]
    run_opening(tender, sealed, bids, cast.agent, clock)
    session = sessions.session_open(actor=cast.agent, lot=lot)
    world = Bidders(sealed)
    members = []
    for user in panel_users(draw):
        m = sessions.member_sign_in(actor=user, session=session).member
        members.append(sessions.member_declare(actor=user, member=m, no_conflict=True))
    for m in members:
        sheet(world, session, m)
    report = reports.current_report(session)
    for m in members:
        reports.report_sign(actor=m.user, report=report)
    publicity = pub.publicity_start(actor=cast.agent, tender=tender)
    clock.move_to(publicity.ends_at + timedelta(seconds=1))
    steps_run_due()
    [award] = award_services.award_publish(actor=cast.agent, tender=tender)
    assert award.bid.bidder_id == sealed[2].org_id
    award_services.award_decline(actor=cast.tenderer, award=award, reason="Refused to sign in writing.")
    account = DepositAccount.objects.get(registration=sealed[2].registration)
    assert account.forfeited_at is not None and account.forfeit_reason == "winner_refused_contract"
    second = award_services.award_next(actor=cast.agent, lot=lot)
    assert second.bid.bidder_id == sealed[1].org_id
