"""The tender status machine: every legal edge allowed, illegal ones refused with 409 naming from/to."""

import pytest

from audit.models import AuditEvent
from config.errors import StateConflict
from trading.models import TenderStatus
from trading.services.tender_status import TRANSITIONS, can_transition, tender_transition

S = TenderStatus


def test_graph_covers_every_status():
    assert set(TRANSITIONS) == set(S.values)
    for targets in TRANSITIONS.values():
        assert targets <= set(S.values)
    assert TRANSITIONS[S.ARCHIVED] == frozenset()


def test_main_path_is_legal():
    path = [
        S.DRAFT,
        S.PUBLISHED,
        S.BIDDING_CLOSED,
        S.OPENING,
        S.EVALUATING,
        S.PUBLICITY,
        S.AWARDED,
        S.CONTRACTED,
        S.ARCHIVED,
    ]
    for a, b in zip(path, path[1:], strict=False):
        assert can_transition(a, b), (a, b)


def test_transition_writes_audit_event(make_draft, cast):
    tender = make_draft()
    tender_transition(actor=cast.agent, tender=tender, to=S.CANCELLED, reason="test")
    tender.refresh_from_db()
    assert tender.status == S.CANCELLED
    event = AuditEvent.objects.filter(action="tender.status_changed").last()
    assert event.data["from"] == "draft" and event.data["to"] == "cancelled" and event.data["tender"] == tender.pk


@pytest.mark.parametrize("to", [S.BIDDING_CLOSED, S.AWARDED, S.ARCHIVED, S.SUSPENDED, S.OPENING])
def test_illegal_transition_from_draft_refused(make_draft, cast, to):
    tender = make_draft()
    before = AuditEvent.objects.count()
    with pytest.raises(StateConflict) as exc:
        tender_transition(actor=cast.agent, tender=tender, to=to)
    assert exc.value.status == 409 and "'draft'" in exc.value.message and f"'{to}'" in exc.value.message
    tender.refresh_from_db()
    assert tender.status == S.DRAFT and AuditEvent.objects.count() == before


def test_suspension_returns_only_where_it_came_from(published, cast):
    tender_transition(actor="system", tender=published, to=S.SUSPENDED)
    published.refresh_from_db()
    assert published.suspended_from == S.PUBLISHED
    with pytest.raises(StateConflict):
        tender_transition(actor="system", tender=published, to=S.PUBLICITY)
    tender_transition(actor="system", tender=published, to=S.PUBLISHED)
    published.refresh_from_db()
    assert published.status == S.PUBLISHED and published.suspended_from == ""


def test_unknown_status_refused(make_draft, cast):
    with pytest.raises(ValueError):
        tender_transition(actor=cast.agent, tender=make_draft(), to="teleported")
