"""Tenders at every phase for the phase tour (tests/e2e/test_09_phase_tour.py), built through the real services.

    python -m tests.e2e.phase_setup <phase> [<phase> ...]     # one JSON line per tender built

Runs in the e2e server's environment (its database). Each tender is played by the demo story's people
(demo/tender.py, `DemoTender`: agent1 and tenderer1, bidder1 … bidder4 — bidder4 pays its deposit
80,000 CNY short — and the drawn experts) act by act, and stops in the phase asked for:

| phase | acts |
|---|---|
| draft | the agent drafts the tender and its lot |
| published | drafted, published with a bid deadline 20 real days ahead; bidder1 registers and pays |
| cancelled | as published, then the agent publishes a termination notice |
| deadline_passed | published, the bidding period played (registrations, deposits, keys, sealed bids); |
| | the deadline passes and no sweep runs |
| opening | as deadline_passed, then the deadline step: the room is in sign-in |
| failed | as opening, then the agent publishes a failure notice (流标) |
| evaluating | the experts drawn, the opening played to its close |
| publicity | evaluated (sheets, signed report), the candidates published |
| awarded | the publicity over, the award published |
| contracted | the contract recorded, the deposits refunded by the bank |

The legal periods run at LEGAL_SPEED (a legal day lasts 2 s) and the room at ROOM_SPEED in this process
only; the server keeps its own acceleration. Prints {"phase", "tender", "code", "lot", "registrations":
{username: public id}, "accounts": {username: public id}, "experts": [usernames]}.
"""

from __future__ import annotations

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from demo import tender as demo_tender  # noqa: E402
from demo.tender import DemoOptions, DemoTender, speed  # noqa: E402
from trading import clock  # noqa: E402

# The demo drafts with a deadline 20 legal days and 2 s ahead and publishes a moment later; on a busy
# machine that moment can eat the margin (publishing refuses a period shorter than 20 days). 23 days
# leave 6 s; the bidders' timeline (days 0.5 to 14, the draw at 16.5) is unchanged.
demo_tender.BIDDING_DAYS = 23

LEGAL_SPEED = 43_200.0  # a legal day lasts 2 s: the 20-day bidding period 40 s
ROOM_SPEED = 120.0  # a room minute lasts 0.5 s

ORDER = ("draft", "published", "cancelled", "deadline_passed", "opening", "failed", "evaluating", "publicity",
         "awarded", "contracted")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _facts(phase: str, demo: DemoTender) -> dict:
    from experts.models import Assignment
    from trading.models.deposit import DepositAccount

    tender = demo.refresh()
    regs = {b.name: str(b.registration.public_id) for b in getattr(demo, "bidders", []) if b.registration}
    accounts = {a.registration.registered_by.username: str(a.public_id)
                for a in DepositAccount.objects.filter(tender=tender).select_related("registration__registered_by")}
    experts = sorted({a.expert.user.username for a in Assignment.objects.filter(
        draw__tender=tender, status="accepted").select_related("expert__user") if a.expert.user})
    return {"phase": phase, "tender": tender.pk, "code": tender.code, "status": tender.status,
            "lot": demo.lot.pk if demo.lot else None, "registrations": regs, "accounts": accounts,
            "experts": experts}


def build(phase: str) -> dict:
    if phase not in ORDER:
        raise SystemExit(f"unknown phase {phase!r}; one of {', '.join(ORDER)}")
    slow = phase in ("draft", "published", "cancelled")
    # published/cancelled: a bid deadline 20 real days ahead (acceleration 1), so the tour sees bidding open.
    # Slower than the demo's FAST (a legal day 2 s, not 0.4 s): several builders run at once on a busy
    # machine, and each bidder must still act well before the deadline.
    options = DemoOptions(acceleration=1.0 if slow else LEGAL_SPEED, room_acceleration=ROOM_SPEED, pace=0.0,
                          bidders=4, seed=16, timeout=600.0)
    demo = DemoTender(options, _say)
    with speed(options.acceleration, options.room_acceleration):
        demo.cast()
        if phase == "draft":
            return _draft(demo)
        demo.notice()
        if slow:
            first = demo.bidders[0]
            first.register(demo.lot)
            first.pay_deposit()
            if phase == "cancelled":
                from trading.services.notices import result_notice_publish

                result_notice_publish(actor=demo.agent, tender=demo.tender, kind="termination",
                                      title="终止公告 Termination", body="The procurement need lapsed.")
            return _facts(phase, demo)
        demo.bidding()
        if phase in ("deadline_passed", "opening", "failed"):
            with speed(options.acceleration, options.room_acceleration):
                _wait_deadline(demo)
                if phase != "deadline_passed":
                    demo.wait_for(lambda: demo.refresh().status == "opening", "the opening to start")
            if phase == "failed":
                from trading.services.notices import result_notice_publish

                result_notice_publish(actor=demo.agent, tender=demo.tender, kind="failure",
                                      title="流标公告 Failure notice", body="The procedure failed.")
            return _facts(phase, demo)
        with speed(options.acceleration, options.room_acceleration):
            demo.expert_draw()
        with speed(options.acceleration, options.room_acceleration):
            demo.wait_until(demo.tender.bid_deadline, "the bid deadline")
            demo.opening()
        demo.wait_for(lambda: demo.refresh().status == "evaluating", "the evaluation phase")
        if phase == "evaluating":
            return _facts(phase, demo)
        demo.evaluation()
        if phase == "publicity":
            from trading.evaluation.services.publicity import publicity_start

            publicity_start(actor=demo.agent, tender=demo.tender)
            return _facts(phase, demo)
        demo.publicity()
        if phase == "awarded":
            from trading.evaluation.services.award import award_publish

            award_publish(actor=demo.agent, tender=demo.tender)
            return _facts(phase, demo)
        demo.award_and_contract()
        return _facts(phase, demo)


def _wait_deadline(demo: DemoTender) -> None:
    """Until the bid deadline has passed, without running its step (the "deadline passed" moment)."""
    while clock.now() <= demo.tender.bid_deadline:
        time.sleep(0.2)


def _draft(demo: DemoTender) -> dict:
    from datetime import timedelta
    from decimal import Decimal

    from trading.services.tenders import lot_create, tender_create

    tender = tender_create(actor=demo.agent, title="草稿 Draft for the phase tour", tenderer=demo.tenderer.organisation,
                           procedure_type="works", evaluation_method="lowest_evaluated_price",
                           readout_items=["duration_days"], bid_deadline=clock.now() + timedelta(days=40))
    demo.tender = tender
    demo.lot = lot_create(actor=demo.agent, tender=tender, title="Lot 1", estimated_price=Decimal("1000000.00"),
                          deposit_amount=Decimal("10000.00"))
    demo.bidders = []
    return _facts("draft", demo)


def main(argv: list[str]) -> int:
    for phase in argv[1:]:
        print(json.dumps(build(phase)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
