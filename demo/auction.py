"""`manage.py demo_auction`: a land-use-right listing that ends in a timed round, played by simulated
buyers through the real services on the real clock with sandbox acceleration (docs/auctions.md, "Demo").

Two speeds through `settings.SANDBOX_TIME_ACCELERATION` (this process only; refused in production):
legal days (the 20-day notice, the 10-day listing) at `acceleration` (default: a legal day lasts 2 s),
the timed round's countdown at `room_acceleration` (default 10: the 300 s countdown lasts 30 s).
The story: the agent drafts the listing, the transferor seals the reserve, the notice is published;
four buyers apply, are qualified and pay their deposits; quotes during the listing; three buyers ask
for a timed round; the round runs with countdown restarts until nobody bids; two custodians release
their shares, the reserve is unsealed and decides; the confirmation is issued, deposits settled, the
result published; the trade is replayed from the audit log.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings

import sbe1
from accounts.models import User
from auctions.models import Buyer, CustodianShare, Trade, TradeStatus
from auctions.replay import replay_trade
from auctions.reserve import seal_reserve
from auctions.rules import rules_for
from auctions.services.bidding import bid_place, trade_advance
from auctions.services.buyers import (
    REFUND_ORIGIN,
    buyer_apply,
    buyer_live_round_declare,
    buyer_review,
    deposit_arrival_book,
)
from auctions.services.ending import result_publish, share_release
from auctions.services.trades import trade_create, trade_publish, trade_reserve_seal
from config.errors import DomainError
from demo.accounts import DEMO_PASSWORD
from demo.actors import CUSTODIANS, bank_refunds_execute, custodian_keys_ensure
from demo.tender import DemoRefused, refuse_in_production, speed
from trading import clock
from trading.models.deposit import RefundInstruction

START = Decimal("32000000.00")
INCREMENT = Decimal("200000.00")
DEPOSIT = Decimal("6400000.00")
RESERVE = Decimal("33000000.00")


@dataclass
class AuctionDemoOptions:
    acceleration: float = 43_200.0  # a legal day = 2 s
    room_acceleration: float = 10.0  # the 300 s countdown = 30 s
    seed: int | None = None
    buyers: int = 4
    keys_dir: Path | None = None


class DemoAuction:
    def __init__(self, options: AuctionDemoOptions, say: Callable[[str], None]) -> None:
        refuse_in_production()
        self.o = options
        self.rng = random.Random(options.seed)
        self._say = say

    def say(self, text: str) -> None:
        self._say(f"[{clock.now():%H:%M:%S}] {text}")

    def wait_until(self, moment, what: str) -> None:
        self.say(f"waiting for {what} ({max(0.0, (moment - clock.now()).total_seconds()):.1f} s)")
        while clock.now() < moment:
            time.sleep(min(0.2, max(0.01, (moment - clock.now()).total_seconds())))

    def run(self) -> Trade:
        self.cast()
        with speed(self.o.acceleration, self.o.room_acceleration):
            trade = self.notice()
            buyers = self.applications(trade)
            trade = self.listing(trade, buyers)
        with speed(self.o.acceleration, self.o.room_acceleration):
            trade = self.timed_round(trade, buyers)
        return self.end(trade)

    def cast(self) -> None:
        from django.core.management import call_command

        if not User.objects.filter(username="agent1").exists():
            self.say("demo accounts missing: running seed_demo")
            call_command("seed_demo", stdout=io.StringIO())
        self.agent = User.objects.get(username="agent1")
        self.transferor = User.objects.get(username="tenderer1")
        self.buyer_users = [User.objects.get(username=f"bidder{i}") for i in range(1, self.o.buyers + 1)]
        self.keys_dir = self.o.keys_dir or Path(settings.VAR_DIR) / "demo_tender" / "keys"
        made = custodian_keys_ensure(self.keys_dir)
        if made:
            self.say(f"custodian keys registered for {', '.join(made)} (key files in {self.keys_dir})")

    def notice(self) -> Trade:
        r = rules_for("land_listing")
        now = clock.now()
        starts = r.notice_to_start.after(now) + timedelta(seconds=2)
        ends = r.listing_period.after(starts) + timedelta(seconds=2)
        trade = trade_create(actor=self.agent, kind="land_listing", title="城东片区 DK-2026-17 地块国有建设用地使用权",
                             transferor=self.transferor.organisation, start_price=START, increment=INCREMENT,
                             deposit_amount=DEPOSIT, starts_at=starts, listing_ends_at=ends,
                             particulars={"area_m2": "18650.00", "use": "commercial", "term_years": 40})
        sealed = seal_reserve(reserve=RESERVE, trade=str(trade.public_id), opening_key=trade.opening_public_spki)
        trade = trade_reserve_seal(actor=self.transferor, trade=trade, sealed=sealed)
        trade = trade_publish(actor=self.agent, trade=trade)
        self.say(f"{trade.code} published: listing {starts:%Y-%m-%d %H:%M:%S} → {ends:%H:%M:%S}, start price "
                 f"{START}, increment {INCREMENT}, reserve sealed (SHA-256 {trade.reserve_sealed_sha256[:16]}…)")
        return trade

    def applications(self, trade: Trade) -> list[Buyer]:
        out = []
        for user in self.buyer_users:
            existing = Buyer.objects.filter(trade=trade, organisation=user.organisation).first()
            buyer = existing or buyer_apply(actor=user, trade=trade, documents=[
                {"name": "营业执照.pdf", "size": 1024, "sha256": f"{self.rng.getrandbits(256):064x}"}])
            buyer_review(actor=self.agent, buyer=buyer, qualified=True)
            deposit_arrival_book(account_number=buyer.deposit_account, amount=DEPOSIT,
                                 payer_account=user.organisation.basic_account_number,
                                 txn_id=f"DEMO-A-{trade.pk}-{buyer.pk}")
            buyer.refresh_from_db()
            self.say(f"{user.organisation.name}: qualified, deposit booked, bidder number {buyer.number}")
            out.append(buyer)
        return out

    def listing(self, trade: Trade, buyers: list[Buyer]) -> Trade:
        self.wait_until(trade.starts_at, "the listing to start")
        trade = trade_advance(trade=trade)
        self.say(f"listing open ({trade.status})")
        price = None
        for i, buyer in enumerate(buyers[:3]):
            amount = START if price is None else price + INCREMENT * (1 + self.rng.randrange(3))
            bid_place(actor=self.buyer_users[i], buyer=buyer, amount=amount)
            price = amount
            self.say(f"quote by number {buyer.number}: {amount}")
            time.sleep(0.3)
        for i, buyer in enumerate(buyers[:3]):
            buyer_live_round_declare(actor=self.buyer_users[i], buyer=buyer)
        self.say("three buyers ask to go on to a timed round")
        self.wait_until(trade.listing_ends_at, "the end of the listing")
        return trade

    def timed_round(self, trade: Trade, buyers: list[Buyer]) -> Trade:
        trade = trade_advance(trade=trade)
        self.say(f"timed round: {trade.status}, countdown ends {trade.ends_at:%H:%M:%S}")
        restarts = 2 + self.rng.randrange(3)
        for n in range(restarts + 1):
            trade.refresh_from_db()
            left = (trade.ends_at - clock.now()).total_seconds()
            time.sleep(max(0.0, left * self.rng.uniform(0.3, 0.8)))
            holder = trade.holder_id
            i = self.rng.choice([k for k in range(3) if buyers[k].pk != holder])
            amount = trade.price + INCREMENT
            try:
                result = bid_place(actor=self.buyer_users[i], buyer=buyers[i], amount=amount)
            except DomainError as exc:
                self.say(f"bid refused: {exc.message}")
                continue
            self.say(f"bid {n + 1}: number {buyers[i].number} {amount}; countdown restarts, ends "
                     f"{result.bid.ends_at:%H:%M:%S}")
        trade.refresh_from_db()
        self.wait_until(trade.ends_at, "the countdown to expire")
        late_buyer = next(k for k in range(3) if buyers[k].pk != trade.holder_id)
        try:
            bid_place(actor=self.buyer_users[late_buyer], buyer=buyers[late_buyer], amount=trade.price + INCREMENT)
        except DomainError as exc:
            self.say(f"a bid after expiry is refused: {exc.message}")
        return trade_advance(trade=trade)

    def end(self, trade: Trade) -> Trade:
        self.say(f"bidding closed at {trade.closed_at:%H:%M:%S}: highest {trade.price}")
        for username in CUSTODIANS[:2]:
            user = User.objects.get(username=username)
            path = self.keys_dir / f"{username}.key.json"
            if not path.exists():
                raise DemoRefused(f"the key file of custodian {username} is not in {self.keys_dir}")
            private = sbe1.read_key_file(path.read_bytes(), DEMO_PASSWORD).private_key
            row = CustodianShare.objects.get(trade=trade, custodian=user)
            share = sbe1.decrypt_share(row.container, private).to_json_bytes().decode()
            trade = share_release(actor=user, trade=trade, share=share)
            self.say(f"custodian {username} released its share")
        trade.refresh_from_db()
        self.say(f"reserve unsealed: {trade.reserve}; outcome {trade.status} ({trade.outcome_reason})")
        if trade.status == TradeStatus.SOLD:
            conf = trade.confirmation
            self.say(f"confirmation issued to {conf.document['buyer']['name']} (number "
                     f"{conf.document['buyer']['number']}), price {conf.document['price']}, "
                     f"SHA-256 {conf.sha256[:16]}…")
        for b in Buyer.objects.filter(trade=trade).select_related("organisation"):
            self.say(f"deposit of {b.organisation.name}: {b.deposit_state}")
        # The bank pays the losers' deposits back (the refund instructions of the deposits' bank export).
        refs = [str(pk) for pk in Buyer.objects.filter(trade=trade).values_list("pk", flat=True)]
        for line in bank_refunds_execute(instructions=RefundInstruction.objects.filter(
                origin=REFUND_ORIGIN, origin_ref__in=refs)):
            self.say(f"bank: refund executed {line}")
        for b in Buyer.objects.filter(trade=trade).select_related("organisation"):
            self.say(f"deposit of {b.organisation.name}: {b.deposit_state}")
        trade = result_publish(actor=self.agent, trade=trade)
        replayed = replay_trade(trade)
        self.say(f"result published; replay from the audit log: {'OK' if replayed.ok else replayed.problems} "
                 f"(price {replayed.price}, number {replayed.number}, {replayed.bids} bids)")
        return trade
