"""The audit replay engine folds with what the apps registered (audit/replay_reducers.py); the
tender's reducers, state and summary come from supervision/replay_reducers.py."""

from __future__ import annotations

from audit import replay_reducers as engine
from supervision import replay_reducers as tender

EVENTS = [
    {"seq": 1, "ts": "t1", "actor": "7", "action": "tender.created", "data": {"code": "GC-1", "title": "Road"}},
    {"seq": 2, "ts": "t2", "actor": "7", "action": "frobnicator.spun", "data": {}},
]


def test_without_registrations_the_engine_keeps_only_its_own_keys(monkeypatch):
    monkeypatch.setattr(engine, "REDUCERS", {})
    monkeypatch.setattr(engine, "FAMILY_REDUCERS", {})
    monkeypatch.setattr(engine, "_PROFILE", {"initial_state": engine._engine_state,
                                             "summary": engine._engine_summary})
    state = engine.fold(EVENTS, tender=5)
    assert state == {"tender": 5, "events": 2, "last_event": {"seq": 2, "ts": "t2", "action": "frobnicator.spun",
                                                              "actor": "7"},
                     "not_interpreted": [{"seq": 1, "action": "tender.created"},
                                         {"seq": 2, "action": "frobnicator.spun"}]}
    assert engine.summary(state) == {"not_interpreted": 2}


def test_supervision_registers_the_tender_profile_and_reducers():
    assert engine.REDUCERS["tender.created"] is tender._tender_created
    state = engine.fold(EVENTS, tender=5)
    assert list(state) == list(tender.tender_initial_state(5))  # the tender's keys, in its order
    assert state["code"] == "GC-1" and state["title"] == "Road"
    assert state["not_interpreted"] == [{"seq": 2, "action": "frobnicator.spun"}]
    assert engine.summary(state) == tender.tender_summary(state)
