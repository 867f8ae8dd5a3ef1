"""The optional credit item of comprehensive scoring: computed from the records counting at the bid
deadline (a record published later does not count; one repaired later still does), frozen in the
evaluation's inputs at the session's opening (stored per bid, part of `bids_sha256`)."""

from __future__ import annotations

from datetime import timedelta

from credit.models import CreditRecord
from credit.rules import RecordKind, Severity
from credit.services import record_decide, record_propose
from tests.trading.evaluation.conftest import _english, _media_root, fake, make_world, readout  # noqa: F401
from tests.trading.evaluation.helpers import join, open_session, seat_panel, sheet
from trading.evaluation.services import reports
from trading.evaluation.services.common import sha256_json
from trading.evaluation.services.criteria import criteria_set
from trading.evaluation.services.sessions import bids_snapshot


def _record(org, supervisor, at, severity=Severity.SERIOUS):
    record = record_propose(kind=RecordKind.FALSE_DOCUMENTS, organisation=org, facts="forged", at=at,
                            source_ref=f"t:{org.pk}:{at.isoformat()}")
    return record_decide(actor=supervisor, record=record, publish=True, reason="ok", severity=severity, at=at)


def test_credit_item_frozen_at_the_opening(make_world, fake, clock):  # noqa: F811
    w = make_world("comprehensive_scoring")
    w.tender.status = "draft"
    w.tender.save(update_fields=["status"])
    crit = criteria_set(actor=w.agent, tender=w.tender, criteria=[
        {"name": "Price", "kind": "price", "max_points": "30"},
        {"name": "Technical proposal", "max_points": "60"},
        {"name": "Credit", "kind": "credit", "max_points": "10"},
    ])
    w.tender.status = "evaluating"
    w.tender.save(update_fields=["status"])
    deadline = w.tender.bid_deadline
    a, b, c = (u.organisation for u in w.bidders[:3])
    _record(a, w.supervisor, deadline - timedelta(days=1))                      # counts: -3
    _record(b, w.supervisor, deadline + timedelta(minutes=30))                  # after the deadline: no
    repaired = _record(c, w.supervisor, deadline - timedelta(days=100), Severity.GENERAL)  # counts: -1
    CreditRecord.objects.filter(pk=repaired.pk).update(status="repaired", ended_at=deadline + timedelta(hours=1))
    fake.seats = 3
    fake.rows[w.lot.pk] = readout(w, ["1000000.00", "1000000.00", "1000000.00"])
    seat_panel(fake, w, 3)
    session = open_session(w)
    credit = {row["bidder"]: row["credit"]["score"] for row in bids_snapshot(session)}
    assert credit == {a.pk: 7, b.pk: 10, c.pk: 9}
    assert session.bids_sha256 == sha256_json(bids_snapshot(session))
    _record(b, w.supervisor, clock.now() + timedelta(minutes=1), Severity.GRAVE)  # later records change nothing
    members = [join(w, session, u) for u in w.experts[:3]]
    for m in members:
        sheet(w, session, m, scores={i: {crit[1].pk: 50} for i in range(3)})
    ranking = reports.current_report(session).content["ranking"]
    got = {r["bidder"]: (r["credit_score"], r["score"]) for r in ranking}
    assert got == {a.pk: ("7.00", "87.00"), b.pk: ("10.00", "90.00"), c.pk: ("9.00", "89.00")}
    assert [r["bidder"] for r in ranking] == [b.pk, c.pk, a.pk]


def test_members_rated_after_the_evaluation_through_the_api(make_world, fake, clock, api):  # noqa: F811
    from credit.models import ExpertSuspension
    from tests.trading.evaluation.helpers import sign_all

    w = make_world("lowest_evaluated_price")
    fake.rows[w.lot.pk] = readout(w, ["4800000.00", "4650000.00", "4700000.00"])
    seat_panel(fake, w)
    session = open_session(w)
    members = [join(w, session, u) for u in w.experts[:5]]
    r = api.as_user(w.supervisor).post(f"/api/v1/evaluation/members/{members[0].pk}/rating", {"score": 2},
                                       format="json")
    assert r.status_code == 409  # not before the report is final
    for m in members:
        sheet(w, session, m)
    sign_all(session, members)
    r = api.as_user(w.supervisor).post(f"/api/v1/evaluation/members/{members[0].pk}/rating",
                                       {"score": 2, "comment": "left early"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["rater_role"] == "supervisor"
    assert ExpertSuspension.objects.get(expert_id=members[0].expert_id).reason == "poor_rating"
    r = api.as_user(w.agent).post(f"/api/v1/evaluation/members/{members[1].pk}/rating", {"score": 5}, format="json")
    assert r.status_code == 201 and r.json()["rater_role"] == "agent"
    assert api.as_user(w.agent).post(f"/api/v1/evaluation/members/{members[1].pk}/rating", {"score": 5},
                                     format="json").status_code == 409
    assert api.as_user(w.bidders[0]).post(f"/api/v1/evaluation/members/{members[1].pk}/rating", {"score": 1},
                                          format="json").status_code in (403, 404)
    assert api.as_user(w.agent).post(f"/api/v1/evaluation/members/{members[2].pk}/rating", {"score": 9},
                                     format="json").status_code == 400
