"""Driving a committee through the services."""

from __future__ import annotations

from trading.evaluation.models import CommitteeMember, EvaluationBid
from trading.evaluation.services import reports, sessions, sheets


def seat_panel(fake, world, count: int = 5) -> list:
    """Give seats 1..count to the first `count` expert accounts."""
    return [fake.seat(i + 1, user) for i, user in enumerate(world.experts[:count])]


def open_session(world):
    return sessions.session_open(actor=world.agent, lot=world.lot)


def bids_by_bidder(session) -> dict:
    """bidder user index (0 = A) → EvaluationBid"""
    return {b.bidder_id: b for b in EvaluationBid.objects.filter(session=session)}


def join(world, session, user, *, no_conflict=True) -> CommitteeMember:
    outcome = sessions.member_sign_in(actor=user, session=session)
    assert outcome.member is not None, outcome
    return sessions.member_declare(actor=user, member=outcome.member, no_conflict=no_conflict)


def sheet(world, session, member, *, fail=None, scores=None, submit=True):
    """fail: {bidder index: reason}; scores: {bidder index: {criterion id: points}}."""
    bids = bids_by_bidder(session)
    fail = fail or {}
    marks = []
    for i, user in enumerate(world.bidders):
        bid = bids.get(user.organisation_id)
        if bid is None:
            continue
        marks.append({"bid": bid.pk, "passed": i not in fail, "reason": fail.get(i, "")})
    sheets.marks_save(actor=member.user, member=member, marks=marks)
    if scores:
        rows = [
            {"bid": bids[world.bidders[i].organisation_id].pk, "criterion": c, "points": p}
            for i, per in scores.items()
            for c, p in per.items()
        ]
        sheets.scores_save(actor=member.user, member=member, scores=rows)
    if submit:
        return sheets.sheet_submit(actor=member.user, member=member)
    return None


def sign_all(session, members, *, dissent: dict | None = None):
    report = reports.current_report(session)
    dissent = dissent or {}
    for m in members:
        text = dissent.get(m.seat, "")
        reports.report_sign(actor=m.user, report=report, agrees=not text, dissent=text)
    report.refresh_from_db()
    return report


def concluded(world, fake, prices=("300.00", "200.00", "100.00", "400.00"), *, fail=None):
    """A lot evaluated by five members (lowest price) with its report final; returns (session, report)."""
    from tests.trading.evaluation.conftest import readout

    fake.rows[world.lot.pk] = readout(world, list(prices))
    seat_panel(fake, world)
    session = open_session(world)
    members = [join(world, session, u) for u in world.experts[:5]]
    for m in members:
        sheet(world, session, m, fail=fail)
    report = sign_all(session, members)
    session.refresh_from_db()
    return session, report, members
