"""The replay engine's fold (docs/audit.md, "Supervisor replay"): pure functions, no database.

`fold(events)` starts from the registered initial state and applies, in the order given, the
reducer registered for each event's action. An event is a mapping with the keys of
`AuditEvent.as_dict()` (seq, ts, actor, action, object, data, prev).

The reducers, the initial state and the summary belong to the apps that write the events: they
are registered here at start-up (`@reducer`, `@family`, `replay_profile`) by
supervision/replay_reducers.py, which knows the tender's domain events. The audit core never
imports them. Reducers are keyed by the exact action name; a family fallback
(`@family("opening")`) handles every `<prefix>.<verb>` without its own reducer. An action with
neither is listed in `state["not_interpreted"]` and changes nothing else, so replaying a log
written by a newer version of the platform never fails. Without a registered profile the state
holds only the engine's own keys (`tender`, `not_interpreted`, `events`, `last_event`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

State = dict[str, Any]
Event = Mapping[str, Any]
Reducer = Callable[[State, Event], None]

REDUCERS: dict[str, Reducer] = {}
FAMILY_REDUCERS: dict[str, Reducer] = {}


def reducer(*actions: str) -> Callable[[Reducer], Reducer]:
    def register(fn: Reducer) -> Reducer:
        for action in actions:
            REDUCERS[action] = fn
        return fn

    return register


def family(prefix: str) -> Callable[[Reducer], Reducer]:
    """Fallback for every action `<prefix>.<verb>` without its own reducer."""

    def register(fn: Reducer) -> Reducer:
        FAMILY_REDUCERS[prefix] = fn
        return fn

    return register


def _engine_state(tender: int | str | None) -> State:
    return {"tender": tender, "not_interpreted": [], "events": 0, "last_event": None}


def _engine_summary(state: State) -> dict[str, Any]:
    return {"not_interpreted": len(state["not_interpreted"])}


_PROFILE: dict[str, Callable] = {"initial_state": _engine_state, "summary": _engine_summary}


def replay_profile(*, initial_state: Callable[[int | str | None], State],
                   summary: Callable[[State], dict[str, Any]]) -> None:
    """Register the state a fold starts from and the counts derived from it (one profile: the
    tender's, by supervision/replay_reducers.py). The engine adds its own keys where missing."""
    _PROFILE["initial_state"] = initial_state
    _PROFILE["summary"] = summary


def initial_state(tender: int | str | None = None) -> State:
    state = _PROFILE["initial_state"](tender)
    for key, value in _engine_state(tender).items():
        state.setdefault(key, value)
    return state


def summary(state: State) -> dict[str, Any]:
    """Counts derived from the state (what a timeline header shows)."""
    return _PROFILE["summary"](state)


def interpreted(action: str) -> bool:
    return action in REDUCERS or action.split(".", 1)[0] in FAMILY_REDUCERS


def apply(state: State, event: Event) -> State:
    """Apply one event to `state` in place and return it."""
    action = event.get("action") or ""
    data = event.get("data") or {}
    if not isinstance(data, Mapping):
        data = {}
    fn = REDUCERS.get(action) or FAMILY_REDUCERS.get(action.split(".", 1)[0])
    if fn is None:
        state["not_interpreted"].append({"seq": event.get("seq"), "action": action})
    else:
        fn(state, {**event, "data": data})
    state["events"] += 1
    state["last_event"] = {"seq": event.get("seq"), "ts": event.get("ts"), "action": action,
                           "actor": event.get("actor")}
    return state


def fold(events: Iterable[Event], *, tender: int | str | None = None, state: State | None = None) -> State:
    """The state after every event of `events` (in the order given; callers sort by seq)."""
    state = initial_state(tender) if state is None else copy.deepcopy(state)
    for event in events:
        apply(state, event)
    return state
