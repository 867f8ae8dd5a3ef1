"""Candidate publicity timings (3 days / 3 days / 3 days, 实施条例 Art 54), objections, re-evaluation,
complaints (10 days, Art 60; acceptance and decision, Art 61)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from config.errors import NotPermitted, RuleViolation, StateConflict
from tests.trading.evaluation.helpers import concluded, sheet, sign_all
from trading.evaluation.models import ComplaintStatus, ReportStatus, SessionStatus
from trading.evaluation.rules import evaluation_rules
from trading.evaluation.services import award as award_services
from trading.evaluation.services import publicity as pub
from trading.evaluation.services import reports
from trading.models import Notice, NoticeKind, TenderStatus
from trading.services.scheduling import steps_run_due

pytestmark = pytest.mark.django_db


def _status(world) -> str:
    world.tender.refresh_from_db()
    return world.tender.status


def test_publicity_objection_and_award_timings(make_world, fake, clock):
    w = make_world()
    session, report, _members = concluded(w, fake)
    assert report.publish_by == report.finalized_at + timedelta(days=3)
    clock.advance(days=1)
    publicity = pub.publicity_start(actor=w.agent, tender=w.tender)
    assert _status(w) == TenderStatus.PUBLICITY and not publicity.late
    assert publicity.ends_at == publicity.starts_at + timedelta(days=3)  # at least 3 days
    assert w.tender.publicity_ends_at == publicity.ends_at
    notice = Notice.objects.get(tender=w.tender, kind=NoticeKind.CANDIDATE_PUBLICITY)
    assert "1. Bidder C Ltd, price 100.00" in notice.body and report.sha256 in notice.body
    lot = publicity.content["lots"][0]
    assert [c["bidder_name"] for c in lot["candidates"]] == ["Bidder C Ltd", "Bidder B Ltd", "Bidder A Ltd"]
    assert "member_totals" not in lot["candidates"][0]
    event = AuditEvent.objects.get(action="candidate_publicity.started")
    assert event.data["sha256"] == publicity.sha256 and event.data["lots"][0]["report_sha256"] == report.sha256

    # The award follows the publicity (Art 54).
    with pytest.raises(RuleViolation) as running:
        award_services.award_publish(actor=w.agent, tender=w.tender)
    assert running.value.code == "publicity_running"

    # An objection during the publicity suspends the tender; the reply is due within 3 days.
    clock.advance(days=2)
    objection = pub.publicity_objection_raise(actor=w.bidders[3], tender=w.tender,
                                              text="C's price is abnormally low.")
    assert _status(w) == TenderStatus.SUSPENDED
    assert objection.reply_due_at == objection.raised_at + timedelta(days=3)
    with pytest.raises(NotPermitted):
        pub.publicity_objection_reply(actor=w.bidders[0], objection=objection, reply="no")

    # The publicity period ends while suspended; the award still waits for the reply.
    clock.move_to(publicity.ends_at + timedelta(seconds=1))
    steps_run_due()
    w.tender.refresh_from_db()
    assert w.tender.publicity_ended_at is not None and w.tender.status == TenderStatus.SUSPENDED
    with pytest.raises(RuleViolation) as pending:
        award_services.award_publish(actor=w.agent, tender=w.tender)
    assert pending.value.code == "objection_pending"
    with pytest.raises(RuleViolation) as closed:  # objections only during the publicity
        pub.publicity_objection_raise(actor=w.bidders[2], tender=w.tender, text="Too late.")
    assert closed.value.code == "not_in_publicity"

    # The reply comes late: the overdue step records it once, for supervisors.
    clock.move_to(objection.reply_due_at + timedelta(minutes=1))
    steps_run_due()
    assert AuditEvent.objects.filter(action="publicity_objection.reply_overdue").count() == 1
    pub.publicity_objection_reply(actor=w.tenderer, objection=objection,
                                  reply="C explained its price in writing; the committee accepted it.")
    assert _status(w) == TenderStatus.PUBLICITY
    assert AuditEvent.objects.get(action="publicity_objection.replied").data["late"] is True
    awards = award_services.award_publish(actor=w.agent, tender=w.tender)
    assert _status(w) == TenderStatus.AWARDED and awards[0].bid.bidder_id == w.bidders[2].organisation_id


def test_late_publication_is_flagged(make_world, fake, clock):
    w = make_world()
    _session, report, _members = concluded(w, fake)
    clock.move_to(report.publish_by + timedelta(minutes=1))
    steps_run_due()
    overdue = AuditEvent.objects.get(action="evaluation_report.publicity_overdue")
    assert overdue.data["report"] == report.pk
    publicity = pub.publicity_start(actor=w.agent, tender=w.tender)
    assert publicity.late is True
    steps_run_due()
    assert AuditEvent.objects.filter(action="evaluation_report.publicity_overdue").count() == 1


def test_publicity_needs_every_report_final_and_the_agent(make_world, fake, clock):
    w = make_world()
    with pytest.raises(StateConflict):
        pub.publicity_start(actor=w.agent, tender=w.tender)
    session, report, _members = concluded(w, fake)
    with pytest.raises(NotPermitted):
        pub.publicity_start(actor=w.tenderer, tender=w.tender)
    with pytest.raises(NotPermitted):
        pub.publicity_objection_raise(actor=w.citizen, tender=w.tender, text="x")


def test_an_upheld_objection_sends_the_result_back_to_the_committee(make_world, fake, clock):
    w = make_world()
    session, first, members = concluded(w, fake)
    publicity = pub.publicity_start(actor=w.agent, tender=w.tender)
    objection = pub.publicity_objection_raise(actor=w.bidders[0], tender=w.tender,
                                              text="Bidder C has no safety production licence.")
    pub.publicity_objection_reply(actor=w.agent, objection=objection, reply="Confirmed; re-evaluation.",
                                  upheld=True)
    session.refresh_from_db()
    first.refresh_from_db()
    publicity.refresh_from_db()
    assert _status(w) == TenderStatus.EVALUATING
    assert publicity.withdrawn_at is not None and first.status == ReportStatus.SUPERSEDED
    assert (session.round, session.status) == (2, SessionStatus.OPEN)
    # The committee re-evaluates (round 2): now C fails.
    for m in members:
        sheet(w, session, m, fail={2: "No safety production licence"})
    second = sign_all(session, members)
    assert second.version == 2 and second.round == 2 and second.status == ReportStatus.FINAL
    assert [c["bidder_name"] for c in second.content["candidates"]] == ["Bidder B Ltd", "Bidder A Ltd",
                                                                         "Bidder D Ltd"]
    again = pub.publicity_start(actor=w.agent, tender=w.tender)
    assert again.content["lots"][0]["report_sha256"] == second.sha256 and _status(w) == TenderStatus.PUBLICITY


def test_complaints_follow_an_objection_within_ten_days_and_are_tracked(make_world, fake, clock):
    w = make_world()
    concluded(w, fake)
    pub.publicity_start(actor=w.agent, tender=w.tender)
    complainant = w.bidders[0]
    with pytest.raises(RuleViolation) as first:  # Art 54 matters: an objection first (Art 60)
        pub.complaint_file(actor=complainant, tender=w.tender, text="The evaluation was unfair.")
    assert first.value.code == "objection_required"
    objection = pub.publicity_objection_raise(actor=complainant, tender=w.tender, text="Unfair scoring.")
    with pytest.raises(RuleViolation) as waiting:
        pub.complaint_file(actor=complainant, tender=w.tender, text="No reply.", objection=objection)
    assert waiting.value.code == "objection_pending"
    clock.advance(days=1)
    pub.publicity_objection_reply(actor=w.agent, objection=objection, reply="The scoring follows the documents.")
    objection.refresh_from_db()
    clock.move_to(objection.replied_at + timedelta(days=10, seconds=1))
    with pytest.raises(RuleViolation) as late:
        pub.complaint_file(actor=complainant, tender=w.tender, text="Late.", objection=objection)
    assert late.value.code == "complaint_too_late"
    clock.move_to(objection.replied_at + timedelta(days=9))
    with pytest.raises(NotPermitted):  # someone else's objection cannot carry my complaint
        pub.complaint_file(actor=w.citizen, tender=w.tender, text="x", objection=objection)
    complaint = pub.complaint_file(actor=complainant, tender=w.tender, text="The reply ignores clause 4.",
                                   objection=objection)
    rules = evaluation_rules("works")
    assert complaint.filing_deadline == objection.replied_at + timedelta(days=10)
    assert complaint.accept_due_at == rules.complaint_accept.after(complaint.filed_at)
    with pytest.raises(NotPermitted):
        pub.complaint_accept(actor=w.agent, complaint=complaint)
    clock.move_to(complaint.accept_due_at + timedelta(minutes=1))
    steps_run_due()
    assert AuditEvent.objects.filter(action="complaint.acceptance_overdue").count() == 1
    complaint = pub.complaint_accept(actor=w.supervisor, complaint=complaint)
    assert complaint.status == ComplaintStatus.ACCEPTED
    assert complaint.decide_due_at == rules.complaint_decide.after(complaint.accepted_at)
    complaint = pub.complaint_decide(actor=w.supervisor, complaint=complaint, decision="dismissed",
                                     text="Scoring complies with the documents.")
    assert complaint.status == ComplaintStatus.DECIDED and complaint.decision == "dismissed"
    clock.move_to(complaint.decide_due_at + timedelta(minutes=1))
    steps_run_due()  # decided: nothing overdue
    assert not AuditEvent.objects.filter(action="complaint.decision_overdue").exists()
    actions = list(AuditEvent.objects.filter(data__tender=w.tender.pk, action__startswith="complaint.")
                   .values_list("action", flat=True))
    assert actions == ["complaint.filed", "complaint.acceptance_overdue", "complaint.accepted", "complaint.decided"]


def test_government_procurement_replies_in_working_days(make_world, fake, clock):
    w = make_world(procedure_type="government_procurement")
    concluded(w, fake)
    pub.publicity_start(actor=w.agent, tender=w.tender)
    objection = pub.publicity_objection_raise(actor=w.bidders[1], tender=w.tender, text="Challenge (质疑).")
    rule = evaluation_rules("government_procurement").objection_reply
    assert rule.source == "政府采购法 Art 53"
    assert objection.reply_due_at == rule.after(objection.raised_at)
    assert objection.reply_due_at - objection.raised_at >= timedelta(days=9)  # 7 working days span a weekend


def test_report_signing_is_for_members_only(make_world, fake, clock):
    w = make_world()
    from tests.trading.evaluation.conftest import readout
    from tests.trading.evaluation.helpers import join, open_session, seat_panel

    fake.rows[w.lot.pk] = readout(w, ["1.00", "2.00", "3.00"])
    seat_panel(fake, w)
    session = open_session(w)
    members = [join(w, session, u) for u in w.experts[:5]]
    for m in members:
        sheet(w, session, m)
    report = reports.current_report(session)
    with pytest.raises(NotPermitted):
        reports.report_sign(actor=w.agent, report=report)
    reports.report_sign(actor=members[0].user, report=report)
    with pytest.raises(StateConflict):
        reports.report_sign(actor=members[0].user, report=report)
