"""The real neighbours of the evaluation: an expert pool and a drawn panel (experts/), sealed bids and
the opening (trading/bids, trading/opening), paid deposits (trading/deposits)."""

from __future__ import annotations

import itertools
from datetime import timedelta

_ids = itertools.count(1)

LINES = [{"specialty": "A0201", "count": 3, "reserves": 1}, {"specialty": "D0101", "count": 2, "reserves": 1}]


def load_specialties() -> None:
    from experts.models import Specialty
    from experts.specialties import specialties_load

    if not Specialty.objects.exists():  # a transactional test's flush removes the migration's rows
        specialties_load()


def expert_pool(make_user, *, roads: int = 6, cost: int = 4) -> list:
    """Experts with their own user accounts (role expert), enough for 3+1 road and 2+1 cost seats."""
    from experts.identity import id_number_with_check
    from experts.services.pool import expert_create

    load_specialties()
    made = []
    for specialty, count in (("A0201", roads), ("D0101", cost)):
        for _ in range(count):
            n = next(_ids)
            user = make_user("expert", username=f"eval-expert-{n}")
            made.append(expert_create(actor="system", name=f"评标专家{n}", id_number=id_number_with_check(f"2{n:016d}"),
                                      phone=f"137{n:08d}", region="330100", specialties=[specialty], user=user))
    return made


def draw_panel(agent, lot, *, start):
    from experts.services.draws import draw_start

    return draw_start(actor=agent, lot=lot, evaluation_start=start, evaluation_end=start + timedelta(hours=4),
                      committee_size=5, lines=LINES, place="评标室 1")


def accept_calls(draw) -> None:
    """Every called expert accepts (web page)."""
    from experts.models import AssignmentStatus
    from experts.services.draws import assignment_respond

    for a in draw.assignments.filter(status=AssignmentStatus.NOTIFIED).select_related("expert").order_by("seq"):
        assignment_respond(actor=a.expert.user, assignment=a, accept=True, via="web")
    draw.refresh_from_db()


def panel_users(draw) -> list:
    from experts.models import AssignmentStatus

    rows = draw.assignments.filter(status=AssignmentStatus.ACCEPTED).select_related("expert__user").order_by("seat")
    return [a.expert.user for a in rows]


def pay_deposits(client, registrations) -> None:
    """The bank reports each deposit arriving from the bidder's basic account (signed notification)."""
    from tests.trading.deposits.conftest import make_transfer, signed_post
    from trading.deposits import bankmsg
    from trading.models import DepositAccount

    for reg in registrations:
        account = DepositAccount.objects.get(registration=reg)
        response = signed_post(client, bankmsg.notification_body(make_transfer(account)))
        assert response.status_code in (200, 201, 202), response.content


def run_opening(tender, bidders, bids, agent, clock) -> None:
    """Deadline → sign-in → decryption by the bidders → read-out → confirmation → closed."""
    from tests.trading.sealed import dek_of, pass_deadline
    from trading.opening import services as opening

    pass_deadline(clock, tender)
    for b in bidders:
        opening.opening_sign_in(actor=b.user, tender=tender)
    opening.opening_advance(actor=agent, tender=tender)
    for b, bid in zip(bidders, bids, strict=True):
        opening.bid_dek_release(actor=b.user, tender=tender, bid_id=bid["id"], dek=dek_of(b, b.envelopes[bid["id"]]))
    for b in bidders:
        opening.opening_confirm(actor=b.user, tender=tender)
    opening.opening_advance(actor=agent, tender=tender)
    tender.refresh_from_db()
