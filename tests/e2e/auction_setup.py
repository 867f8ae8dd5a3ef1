"""Runs inside the e2e server's environment for tests/e2e/test_auction_room.py.

    python -m tests.e2e.auction_setup create <keys-dir>        → JSON {"trade": id, "numbers": {user: number}}
    python -m tests.e2e.auction_setup release <keys-dir> <id>  → JSON {"status": ..., "reserve": ...}

`create`: a land auction by agent1 for tenderer1's organisation with a sealed reserve, three qualified
buyers (bidder1..3) whose deposits the bank reported, starting 45 s from now (the 20-day notice is
counted at a high sandbox factor in this process only), countdown 60 s (counted in real seconds by the
server: PTRADE_AUCTION_ROOM_ACCELERATION=1). `release`: custodians agent1 and supervisor1 decrypt their
shares with their key files and release them, as the trade page does in their browsers.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402

import sbe1  # noqa: E402
from accounts.models import User  # noqa: E402
from demo.accounts import DEMO_PASSWORD  # noqa: E402

BUYERS = ("bidder1", "bidder2", "bidder3")
START_IN = 45  # seconds: the four browsers log in and open the room meanwhile
COUNTDOWN = 60  # seconds, restarted by each bid (real seconds: PTRADE_AUCTION_ROOM_ACCELERATION=1)


def create() -> dict:
    from auctions.reserve import seal_reserve
    from auctions.rules import rules_for
    from auctions.services.buyers import buyer_apply, buyer_review, deposit_arrival_book
    from auctions.services.trades import trade_create, trade_publish, trade_reserve_seal
    from trading import clock

    agent, seller = User.objects.get(username="agent1"), User.objects.get(username="tenderer1")
    settings.SANDBOX_TIME_ACCELERATION = 10_000_000
    starts = rules_for("land_auction").notice_to_start.after(clock.now()) + timedelta(seconds=START_IN)
    trade = trade_create(actor=agent, kind="land_auction", title="E2E 地块 Parcel A-7", transferor=seller.organisation,
                         start_price="5000000.00", increment="100000.00", deposit_amount="500000.00",
                         starts_at=starts, countdown_seconds=COUNTDOWN)
    sealed = seal_reserve(reserve="5200000.00", trade=str(trade.public_id), opening_key=trade.opening_public_spki)
    trade = trade_publish(actor=agent, trade=trade_reserve_seal(actor=seller, trade=trade, sealed=sealed))
    numbers = {}
    for n, username in enumerate(BUYERS):
        user = User.objects.get(username=username)
        buyer = buyer_apply(actor=user, trade=trade, documents=[{"name": "licence.pdf", "size": 3, "sha256": "b" * 64}])
        buyer_review(actor=agent, buyer=buyer, qualified=True)
        deposit_arrival_book(account_number=buyer.deposit_account, amount="500000.00",
                             payer_account=user.organisation.basic_account_number, txn_id=f"E2E-{trade.pk}-{n}")
        buyer.refresh_from_db()
        numbers[username] = buyer.number
    return {"trade": str(trade.public_id), "numbers": numbers}


def release(keys_dir: Path, trade_id: str) -> dict:
    from auctions.models import CustodianShare, Trade
    from auctions.services.bidding import trade_advance
    from auctions.services.ending import share_release

    trade = trade_advance(trade=Trade.objects.get(public_id=trade_id))
    for username in ("agent1", "supervisor1"):
        user = User.objects.get(username=username)
        private = sbe1.read_key_file((keys_dir / f"{username}.key.json").read_bytes(), DEMO_PASSWORD).private_key
        row = CustodianShare.objects.get(trade=trade, custodian=user)
        trade = share_release(actor=user, trade=trade,
                              share=sbe1.decrypt_share(row.container, private).to_json_bytes().decode())
    trade.refresh_from_db()
    return {"status": trade.status, "reserve": str(trade.reserve), "price": str(trade.price)}


def main(argv: list[str]) -> int:
    if argv[1] == "create":
        print(json.dumps(create()), flush=True)
    elif argv[1] == "release":
        print(json.dumps(release(Path(argv[2]), argv[3])), flush=True)
    else:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
