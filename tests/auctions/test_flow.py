"""A land listing end to end through the services, and the refusals with their sources."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from auctions.models import Bid, Buyer, DepositState, TradeStatus
from auctions.services.bidding import bid_place, trade_advance
from auctions.services.buyers import buyer_live_round_declare
from auctions.services.ending import result_publish
from auctions.services.trades import trade_increment_change, trade_publish, trade_relist
from audit.models import AuditEvent, Receipt
from audit.signing import verify_receipt
from config.errors import DomainError, RuleViolation, StateConflict
from tests.auctions.conftest import enrol, new_trade, release_shares

pytestmark = pytest.mark.django_db


def _listing_to_timed(world, fake_clock, trade, buyers):
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="800000.00")
    fake_clock.advance(hours=1)
    bid_place(actor=world.buyers[1], buyer=buyers[1], amount="810000.00")
    for user, buyer in zip(world.buyers[:2], buyers[:2], strict=True):
        buyer_live_round_declare(actor=user, buyer=buyer)
    fake_clock.set(trade.listing_ends_at + timedelta(seconds=2))
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.TIMED
    return trade


def test_land_listing_timed_round_sold(world, fake_clock):
    trade = new_trade(world)
    buyers = enrol(world, trade, world.buyers[:3])
    assert all(b.number and b.may_bid for b in buyers)
    trade = _listing_to_timed(world, fake_clock, trade, buyers)
    assert trade.ends_at == trade.listing_ends_at + timedelta(seconds=300)
    # Each bid restarts the countdown from its own server time.
    fake_clock.set(trade.ends_at - timedelta(seconds=10))
    result = bid_place(actor=world.buyers[0], buyer=buyers[0], amount="820000.00", idempotency_key="k1")
    assert result.bid.ends_at == fake_clock.t + timedelta(seconds=300)
    again = bid_place(actor=world.buyers[0], buyer=buyers[0], amount="820000.00", idempotency_key="k1")
    assert again.replayed and again.bid.pk == result.bid.pk
    with pytest.raises(StateConflict):
        bid_place(actor=world.buyers[0], buyer=buyers[0], amount="830000.00", idempotency_key="k1")
    with pytest.raises(StateConflict) as own:
        bid_place(actor=world.buyers[0], buyer=buyers[0], amount="840000.00")
    assert own.value.code == "own_highest"
    fake_clock.advance(seconds=299)
    bid_place(actor=world.buyers[1], buyer=buyers[1], amount="1100000.00")
    # Buyer 3 did not ask for the timed round.
    with pytest.raises(StateConflict):
        bid_place(actor=world.buyers[2], buyer=buyers[2], amount="1200000.00")
    fake_clock.advance(seconds=300)  # exactly at the end: refused, with the server time
    with pytest.raises(RuleViolation) as late:
        bid_place(actor=world.buyers[0], buyer=buyers[0], amount="1200000.00")
    assert late.value.code == "bid_expired" and "server_time" in late.value.fields
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.CLOSED and trade.reserve is None
    # One share is not enough; then the reserve opens and decides.
    trade = release_shares(world, trade, roles=("agent",))
    assert trade.status == TradeStatus.CLOSED
    trade = release_shares(world, trade, roles=("supervisor",))
    assert trade.status == TradeStatus.SOLD and trade.reserve == Decimal("1000000.00")
    assert trade.price == Decimal("1100000.00") and trade.holder_id == buyers[1].pk
    conf = trade.confirmation
    assert verify_receipt(conf.signed) and conf.document["price"] == "1100000.00"
    states = {b.pk: b.deposit_state for b in Buyer.objects.filter(trade=trade)}
    assert states[buyers[1].pk] == DepositState.APPLIED
    assert states[buyers[0].pk] == states[buyers[2].pk] == DepositState.REFUND_DUE
    # Every accepted bid has a signed receipt held by its buyer.
    for bid in Bid.objects.filter(trade=trade):
        receipt = Receipt.objects.get(pk=bid.receipt_id)
        assert receipt.holder_org_id == bid.buyer.organisation_id and verify_receipt(receipt.signed)
    assert trade.result_due_at > trade.closed_at
    trade = result_publish(actor=world.agent, trade=trade)
    actions = list(AuditEvent.objects.filter(object=f"auctions.trade:{trade.pk}").values_list("action", flat=True))
    for needed in ("auction.trade_created", "auction.reserve_sealed", "auction.notice_published",
                   "auction.bid_accepted", "auction.phase_changed", "auction.share_released",
                   "auction.reserve_opened", "auction.decided", "auction.confirmation_issued",
                   "auction.result_published", "auction.numbers_revealed"):
        assert needed in actions


def test_below_reserve_not_sold_and_relist(world, fake_clock):
    trade = new_trade(world, reserve="2000000.00")
    buyers = enrol(world, trade, world.buyers[:2])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="900000.00")
    fake_clock.set(trade.listing_ends_at)
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.CLOSED and trade.outcome_reason == "listing_ended"
    trade = release_shares(world, trade)
    assert trade.status == TradeStatus.NOT_SOLD and trade.outcome_reason == "below_reserve"
    assert not Buyer.objects.filter(trade=trade, deposit_state=DepositState.APPLIED).exists()
    from supervision.live import supervision_warnings

    kinds = {w.kind for w in supervision_warnings(now=fake_clock.t)}
    assert "auction_below_reserve" in kinds
    with pytest.raises(DomainError):
        trade_relist(actor=world.agent, trade=trade, start_price="800000.00", starts_at=trade.starts_at)
    new = trade_relist(actor=world.agent, trade=trade, start_price="700000.00",
                       starts_at=fake_clock.t + timedelta(days=25),
                       listing_ends_at=fake_clock.t + timedelta(days=40))
    assert new.status == TradeStatus.DRAFT and new.relisted_from_id == trade.pk and new.start_price < trade.start_price
    kinds = {w.kind for w in supervision_warnings(now=fake_clock.t)}
    assert "auction_below_reserve" not in kinds


def test_publish_rules_name_sources(world, fake_clock):
    from auctions.services.trades import trade_create

    now = fake_clock.t
    trade = trade_create(actor=world.agent, kind="land_listing", title="x", transferor=world.transferor.organisation,
                         start_price="100.00", increment="1.00", deposit_amount="10.00",
                         starts_at=now + timedelta(days=19), listing_ends_at=now + timedelta(days=25))
    with pytest.raises(RuleViolation) as err:
        trade_publish(actor=world.agent, trade=trade)
    text = err.value.message
    assert "第39号 Art 10" in text and "第39号 Art 17" in text and "reserve" in text
    asset = trade_create(actor=world.agent, kind="asset_transfer", title="y", transferor=world.transferor.organisation,
                         start_price="100.00", increment="1.00", deposit_amount="10.00",
                         starts_at=now + timedelta(days=21))
    with pytest.raises(RuleViolation) as err:
        trade_publish(actor=world.agent, trade=asset)
    assert "第32号 Art 13" in err.value.message and "20 working days" in err.value.message


def test_deposit_gate_and_numbers(world, fake_clock):
    trade = new_trade(world)
    [unpaid] = enrol(world, trade, world.buyers[:1], pay=False)
    assert unpaid.number == "" and not unpaid.may_bid
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    with pytest.raises(StateConflict) as err:
        bid_place(actor=world.buyers[0], buyer=unpaid, amount="900000.00")
    assert err.value.code == "not_eligible"
    # Another organisation cannot bid as this buyer.
    with pytest.raises(DomainError):
        bid_place(actor=world.buyers[1], buyer=unpaid, amount="900000.00")
    # The number→organisation link is not in the audit chain before the end, only a commitment.
    from auctions.services.buyers import deposit_arrival_book

    deposit_arrival_book(account_number=unpaid.deposit_account, amount="100000.00", payer_account="6222000099",
                         txn_id="dup-1")
    deposit_arrival_book(account_number=unpaid.deposit_account, amount="100000.00", payer_account="6222000099",
                         txn_id="dup-1")  # idempotent
    unpaid.refresh_from_db()
    assert unpaid.deposit_paid == Decimal("100000.00") and unpaid.number
    for event in AuditEvent.objects.filter(action__startswith="auction."):
        assert unpaid.number not in str(event.data.get("number_commitment", "")) or event.action != "x"
        if event.action == "auction.number_assigned":
            assert unpaid.number not in str(event.data)


def test_listing_quotes_and_increment_change(world, fake_clock):
    trade = new_trade(world)
    buyers = enrol(world, trade, world.buyers[:2])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    with pytest.raises(RuleViolation) as low:
        bid_place(actor=world.buyers[0], buyer=buyers[0], amount="799999.99")
    assert low.value.fields["minimum"] == "800000.00"
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="800000.00")
    # An equal quote is refused: the earlier one stands.
    with pytest.raises(RuleViolation):
        bid_place(actor=world.buyers[1], buyer=buyers[1], amount="800000.00")
    trade_increment_change(actor=world.agent, trade=trade, increment="50000.00", reason="slow listing")
    with pytest.raises(RuleViolation) as low:
        bid_place(actor=world.buyers[1], buyer=buyers[1], amount="840000.00")
    assert low.value.fields["minimum"] == "850000.00"
    bid_place(actor=world.buyers[1], buyer=buyers[1], amount="850000.00")
    assert AuditEvent.objects.filter(action="auction.increment_changed", data__new="50000.00").exists()
    with pytest.raises(DomainError):
        trade_increment_change(actor=world.buyers[0], trade=trade, increment="1.00")


def test_auction_with_fewer_than_three_buyers_stops(world, fake_clock):
    trade = new_trade(world, kind="land_auction")
    enrol(world, trade, world.buyers[:2])
    fake_clock.set(trade.starts_at)
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.STOPPED and trade.outcome_reason == "too_few_buyers"
    assert set(Buyer.objects.filter(trade=trade).values_list("deposit_state", flat=True)) == {DepositState.REFUND_DUE}
    event = AuditEvent.objects.filter(action="auction.decided", object=f"auctions.trade:{trade.pk}").get()
    assert "Art 15" in event.data["source"]


def test_auction_with_three_buyers_runs_timed(world, fake_clock):
    trade = new_trade(world, kind="land_auction", countdown=60)
    buyers = enrol(world, trade, world.buyers[:3])
    fake_clock.set(trade.starts_at + timedelta(seconds=5))
    bid_place(actor=world.buyers[2], buyer=buyers[2], amount="800000.00")
    fake_clock.advance(seconds=59)
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="810000.00")
    fake_clock.advance(seconds=61)
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.CLOSED
    trade = release_shares(world, trade, roles=("platform", "supervisor"))
    assert trade.status == TradeStatus.NOT_SOLD  # 810000 < reserve 1000000


def test_late_result_warning(world, fake_clock):
    from supervision.live import supervision_warnings

    trade = new_trade(world)
    buyers = enrol(world, trade, world.buyers[:1])
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    bid_place(actor=world.buyers[0], buyer=buyers[0], amount="1000000.00")
    fake_clock.set(trade.listing_ends_at)
    trade = release_shares(world, trade_advance(trade=trade))
    assert trade.status == TradeStatus.SOLD  # one quote ≥ reserve at the end of the listing sells
    fake_clock.set(trade.result_due_at + timedelta(seconds=1))
    late = [w for w in supervision_warnings(now=fake_clock.t) if w.kind == "auction_result_late"]
    assert late and late[0].level == "red"
    result_publish(actor=world.agent, trade=trade)
    assert not [w for w in supervision_warnings(now=fake_clock.t) if w.kind == "auction_result_late"]


def test_shill_pattern_warning(world, fake_clock):
    from supervision.live import supervision_warnings

    trade = new_trade(world)
    buyers = enrol(world, trade, world.buyers[:2], payer="6222999900001111")
    fake_clock.set(trade.starts_at + timedelta(seconds=1))
    price = Decimal("800000.00")
    for i in range(5):
        bid_place(actor=world.buyers[i % 2], buyer=buyers[i % 2], amount=price)
        price += Decimal("10000.00")
    found = [w for w in supervision_warnings(now=fake_clock.t) if w.kind == "auction_shill_pattern"]
    assert found and found[0].level == "red" and "payer_account" in found[0].detail


def test_asset_transfer_single_buyer(world, fake_clock):
    trade = new_trade(world, kind="asset_transfer", reserve="800000.00")
    [buyer] = enrol(world, trade, world.buyers[:1])
    fake_clock.set(trade.starts_at)
    trade = trade_advance(trade=trade)
    assert trade.status == TradeStatus.CLOSED and trade.bid_count == 1 and trade.price == trade.start_price
    trade = release_shares(world, trade)
    assert trade.status == TradeStatus.SOLD and trade.holder_id == buyer.pk
