"""The evaluation session through its services: both methods end to end with hand-computed rankings,
declarations, replacement voiding scores, the report's hash and signatures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from audit.models import AuditEvent
from audit.signing import verify_receipt
from config.errors import DomainError, NotPermitted, RuleViolation, StateConflict
from tests.trading.evaluation.conftest import readout
from tests.trading.evaluation.helpers import bids_by_bidder, join, open_session, seat_panel, sheet, sign_all
from trading.evaluation import sources
from trading.evaluation.models import MemberStatus, ReportStatus, SessionStatus
from trading.evaluation.services import reports, sessions, sheets
from trading.evaluation.services.common import sha256_json
from trading.evaluation.services.criteria import criteria_set

pytestmark = pytest.mark.django_db


def test_lowest_evaluated_price_from_sign_in_to_final_report(make_world, fake, clock):
    w = make_world("lowest_evaluated_price")
    # A 4.80M; B and C 4.65M (B received 5 minutes earlier); D 4.50M but rejected by 3 of 5 members.
    fake.rows[w.lot.pk] = readout(w, ["4800000.00", "4650000.00", "4650000.00", "4500000.00"])
    seat_panel(fake, w)
    session = open_session(w)
    assert session.status == SessionStatus.OPEN and session.seats == 5 and session.bids.count() == 4
    members = [join(w, session, u) for u in w.experts[:5]]
    assert fake.reveals == 5  # every sign-in asks for the reveal (experts reveals once, then it is a no-op)
    reasons = {1: "No valid safety production licence", 2: "No valid safety production licence",
               3: "Bid bond missing"}
    for m in members:
        sheet(w, session, m, fail={3: reasons[m.seat]} if m.seat in reasons else None)
    session.refresh_from_db()
    assert session.status == SessionStatus.SIGNING
    report = reports.current_report(session)
    content = report.content
    bidder = {u.organisation_id: i for i, u in enumerate(w.bidders)}
    assert [(r["rank"], bidder[r["bidder"]]) for r in content["ranking"]] == [(1, 1), (2, 2), (3, 0)]
    assert [bidder[c["bidder"]] for c in content["candidates"]] == [1, 2, 0]
    assert content["rejections"] == [{
        "bid": bids_by_bidder(session)[w.bidders[3].organisation_id].pk, "bidder": w.bidders[3].organisation_id,
        "bidder_name": "Bidder D Ltd", "price": "4500000.00",
        "reasons": ["No valid safety production licence", "Bid bond missing"]}]
    assert report.sha256 == sha256_json(content)
    assert len(content["members"]) == 5 and len(content["sheets"]) == 5
    assert all(verify_receipt(m["receipt"]) for m in content["members"])
    # Every member signs; seat 3 disagrees in writing (实施条例 Art 53).
    with pytest.raises(RuleViolation):
        reports.report_sign(actor=members[2].user, report=report, agrees=False, dissent="")
    report = sign_all(session, members, dissent={3: "D's licence was renewed on 1 November."})
    session.refresh_from_db()
    assert report.status == ReportStatus.FINAL and session.status == SessionStatus.CONCLUDED
    assert report.publish_by == report.finalized_at + timedelta(days=3)
    signatures = list(report.signatures.order_by("member__seat"))
    assert [s.agrees for s in signatures] == [True, True, False, True, True]
    assert all(verify_receipt(s.receipt) and s.receipt["receipt"]["report_sha256"] == report.sha256
               for s in signatures)
    final = AuditEvent.objects.get(action="evaluation_report.finalized")
    assert final.data["sha256"] == report.sha256 and final.data["tender"] == w.tender.pk
    assert AuditEvent.objects.filter(action="evaluation.sheet_submitted").count() == 5
    # No score or mark is in the audit chain: only hashes of sheets.
    submitted = AuditEvent.objects.filter(action="evaluation.sheet_submitted").first()
    assert set(submitted.data) >= {"sheet_sha256", "seat", "expert_hash", "tender"} and "marks" not in submitted.data
    from trading.models import ScheduledStep

    assert ScheduledStep.objects.get(kind="evaluation_publicity_due").due_at == report.publish_by


def test_comprehensive_scoring_through_the_services(make_world, fake, clock):
    w = make_world("comprehensive_scoring")
    w.tender.status = "draft"
    w.tender.save(update_fields=["status"])
    crit = criteria_set(actor=w.agent, tender=w.tender, criteria=[
        {"name": "Price", "kind": "price", "max_points": "30"},
        {"name": "Technical proposal", "max_points": "50"},
        {"name": "Commercial terms", "max_points": "20"},
    ])
    w.tender.status = "evaluating"
    w.tender.save(update_fields=["status"])
    tech, comm = crit[1].pk, crit[2].pk
    fake.seats = 3
    fake.rows[w.lot.pk] = readout(w, ["1000000.00", "1200000.00", "1100000.00"])
    seat_panel(fake, w, 3)
    session = open_session(w)
    members = [join(w, session, u) for u in w.experts[:3]]
    table = {  # seat → {bidder: (technical, commercial)}
        1: {0: (40, 15), 1: (45, 18), 2: (42, 16)},
        2: {0: (38, 14), 1: (44, 17), 2: (43, 15)},
        3: {0: (41, 16), 1: (46, 19), 2: (40, 17)},
    }
    for m in members:
        sheet(w, session, m, scores={i: {tech: t, comm: c} for i, (t, c) in table[m.seat].items()})
    content = reports.current_report(session).content
    # Same numbers as tests/trading/evaluation/test_ranking.py: Y (B) 88.00, Z (C) 84.94, X (A) 84.67.
    got = [(r["bidder_name"], r["price_score"], r["scored_mean"], r["score"]) for r in content["ranking"]]
    assert got == [("Bidder B Ltd", "25.00", "63.00", "88.00"), ("Bidder C Ltd", "27.27", "57.67", "84.94"),
                   ("Bidder A Ltd", "30.00", "54.67", "84.67")]
    assert content["ranking"][0]["member_totals"] == [{"seat": 1, "total": "63.00"}, {"seat": 2, "total": "61.00"},
                                                      {"seat": 3, "total": "65.00"}]


def test_criteria_are_fixed_once_published_and_must_add_up(make_world, fake):
    w = make_world("comprehensive_scoring")
    with pytest.raises(StateConflict):  # the tender is past publication
        criteria_set(actor=w.agent, tender=w.tender, criteria=[{"name": "Quality", "max_points": "100"}])
    fake.rows[w.lot.pk] = readout(w, ["1.00", "2.00", "3.00"])
    with pytest.raises(RuleViolation) as missing:
        open_session(w)
    assert missing.value.code == "criteria_missing"
    w.tender.status = "draft"
    w.tender.save(update_fields=["status"])
    with pytest.raises(DomainError):
        criteria_set(actor=w.agent, tender=w.tender, criteria=[{"name": "Quality", "max_points": "90"}])
    with pytest.raises(NotPermitted):
        criteria_set(actor=w.tenderer, tender=w.tender, criteria=[{"name": "Quality", "max_points": "100"}])


def test_sheets_need_the_declaration_are_complete_and_final_once_submitted(make_world, fake, clock):
    w = make_world()
    fake.rows[w.lot.pk] = readout(w, ["100.00", "200.00", "300.00"])
    seat_panel(fake, w)
    session = open_session(w)
    with pytest.raises(StateConflict) as again:
        open_session(w)
    assert again.value.code == "session_exists"
    with pytest.raises(NotPermitted):  # not drawn for this lot
        sessions.member_sign_in(actor=w.experts[6], session=session)
    member = sessions.member_sign_in(actor=w.experts[0], session=session).member
    bid = session.bids.first()
    with pytest.raises(StateConflict) as undeclared:
        sheets.marks_save(actor=w.experts[0], member=member, marks=[{"bid": bid.pk, "passed": True}])
    assert undeclared.value.code == "declaration_required"
    sessions.member_declare(actor=w.experts[0], member=member, no_conflict=True)
    with pytest.raises(DomainError):  # a failure needs its reason (实施条例 Art 51)
        sheets.marks_save(actor=w.experts[0], member=member, marks=[{"bid": bid.pk, "passed": False}])
    with pytest.raises(NotPermitted):  # nobody writes on another member's sheet
        sheets.marks_save(actor=w.experts[1], member=member, marks=[{"bid": bid.pk, "passed": True}])
    sheets.marks_save(actor=w.experts[0], member=member, marks=[{"bid": bid.pk, "passed": True}])
    with pytest.raises(DomainError) as incomplete:
        sheets.sheet_submit(actor=w.experts[0], member=member)
    assert incomplete.value.code == "sheet_incomplete"
    sub = sheet(w, session, member)
    assert verify_receipt(sub.receipt) and sub.receipt["receipt"]["sheet_sha256"] == sub.sha256 == sha256_json(
        sub.content)
    with pytest.raises(StateConflict) as final:
        sheets.marks_save(actor=w.experts[0], member=member, marks=[{"bid": bid.pk, "passed": False,
                                                                      "reason": "changed my mind"}])
    assert final.value.code == "submitted"


def test_a_declared_conflict_recuses_the_member_and_asks_for_a_redraw(make_world, fake):
    w = make_world()
    fake.rows[w.lot.pk] = readout(w, ["100.00", "200.00", "300.00"])
    aids = seat_panel(fake, w)
    session = open_session(w)
    member = sessions.member_sign_in(actor=w.experts[0], session=session).member
    sessions.member_declare(actor=w.experts[0], member=member, no_conflict=False, statement="My brother runs C.")
    member.refresh_from_db()
    assert member.status == MemberStatus.RECUSED
    assert fake.left == [(aids[0], "declared a conflict of interest at evaluation sign-in")]
    assert AuditEvent.objects.filter(action="evaluation.member_recused").count() == 1


def test_the_reveal_may_remove_a_member_then_sign_in_waits(make_world, fake):
    w = make_world()
    fake.rows[w.lot.pk] = readout(w, ["100.00", "200.00", "300.00"])
    seat_panel(fake, w)
    session = open_session(w)
    fake.reveal_script = [sources.Reveal(False, 1)]
    outcome = sessions.member_sign_in(actor=w.experts[0], session=session)
    assert outcome.waiting and outcome.member is None and outcome.removed == 1
    assert sessions.member_sign_in(actor=w.experts[0], session=session).member is not None


def test_a_replaced_member_voids_its_scores_and_the_new_member_evaluates_afresh(make_world, fake, clock):
    w = make_world()
    fake.rows[w.lot.pk] = readout(w, ["300.00", "200.00", "100.00"])
    aids = seat_panel(fake, w)
    session = open_session(w)
    members = [join(w, session, u) for u in w.experts[:5]]
    # Seat 1 fails C (the cheapest) — alone, so C still passes; then seat 1 is replaced.
    sheet(w, session, members[0], fail={2: "Abnormally low price"})
    for m in members[1:4]:
        sheet(w, session, m)
    with pytest.raises(NotPermitted):  # a member cannot replace a colleague
        sessions.member_replace(actor=w.experts[1], member=members[0], reason="x")
    sessions.member_replace(actor=w.supervisor, member=members[0], reason="Fell ill during the evaluation")
    members[0].refresh_from_db()
    assert members[0].status == MemberStatus.REPLACED
    assert (aids[0], "replaced during the evaluation: Fell ill during the evaluation") in fake.left
    sheet(w, session, members[4])
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN  # seat 1 is empty: no report yet
    newcomer = w.experts[5]
    fake.seat(1, newcomer)  # the experts app refilled seat 1 by a new draw
    fresh = join(w, session, newcomer)
    assert fresh.seat == 1 and fresh.marks.count() == 0  # nothing inherited
    sheet(w, session, fresh, fail={0: "Duration exceeds 365 days"})
    report = reports.current_report(session)
    assert [m["seat"] for m in report.content["members"]] == [1, 2, 3, 4, 5]
    assert report.content["members"][0]["expert_hash"] == fresh.expert_hash
    assert report.content["voided_members"] == [{"seat": 1, "expert_hash": members[0].expert_hash,
                                                 "status": "replaced", "reason": "Fell ill during the evaluation"}]
    # The void sheet (which failed C) does not count: only the new member's marks do.
    assert [q["fails"] for q in report.content["qualification"]] == [1, 0, 0]
    event = AuditEvent.objects.get(action="evaluation.member_replaced")
    assert event.data["voided"] == 4  # 3 marks + 1 submission


def test_a_replacement_while_signing_supersedes_the_report(make_world, fake, clock):
    w = make_world()
    fake.rows[w.lot.pk] = readout(w, ["300.00", "200.00", "100.00"])
    seat_panel(fake, w)
    session = open_session(w)
    members = [join(w, session, u) for u in w.experts[:5]]
    for m in members:
        sheet(w, session, m)
    first = reports.current_report(session)
    reports.report_sign(actor=members[1].user, report=first)
    sessions.member_replace(actor=w.agent, member=members[0], reason="Undeclared relation found")
    first.refresh_from_db()
    session.refresh_from_db()
    assert first.status == ReportStatus.SUPERSEDED and session.status == SessionStatus.OPEN
    with pytest.raises(StateConflict):
        reports.report_sign(actor=members[2].user, report=first)
    fake.seat(1, w.experts[6])
    sheet(w, session, join(w, session, w.experts[6]))
    second = reports.current_report(session)
    assert second.version == 2 and second.status == ReportStatus.SIGNING and second.sha256 != first.sha256
    # A member who left the panel through the expert app (not through this service) is voided as well.
    fake.accepted.pop(members[1].assignment_id)
    with transaction.atomic():
        voided = sessions.panel_sync(sessions.lock_session(session))
    assert [m.pk for m in voided] == [members[1].pk]
    members[1].refresh_from_db()
    second.refresh_from_db()
    assert members[1].status == MemberStatus.REPLACED and second.status == ReportStatus.SUPERSEDED
    with pytest.raises(NotPermitted):
        reports.report_sign(actor=members[1].user, report=second)


def test_session_open_needs_an_evaluating_tender_and_bids(make_world, fake):
    w = make_world()
    seat_panel(fake, w)
    with pytest.raises(StateConflict) as nothing:
        open_session(w)
    assert nothing.value.code == "no_bids"
    fake.rows[w.lot.pk] = readout(w, ["1.00"])
    with pytest.raises(NotPermitted):
        sessions.session_open(actor=w.tenderer, lot=w.lot)
    w.tender.status = "publicity"
    w.tender.save(update_fields=["status"])
    with pytest.raises(StateConflict):
        open_session(w)
    assert Decimal("1.00") == fake.rows[w.lot.pk][0].price
