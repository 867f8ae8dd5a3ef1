"""Reducers that rebuild a tender's state from its audit events (docs/audit.md, "Supervisor replay").

Registered with the audit replay engine (audit/replay_reducers.py) when the supervision app is
ready: `@reducer`/`@family` for each action, `replay_profile` for the tender's initial state
and its summary, and `replay_seal_salt` for the tender's seal salt (the one database read, by the
replay of sealed events before the deadline). The reducers are pure functions, no database. The state holds
only what the events carry: facts that were sealed when written (who registered, who asked or
objected) stay the hashes and counts the events hold; bids are their envelope hashes.

Reducers are keyed by the exact action name; a few families (actions that start with
"opening.", "bid.", "expert_draw." …) have a fallback that records the step generically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.replay import replay_seal_salt
from audit.replay_reducers import Event, State, family, reducer, replay_profile
from trading.models import Tender


def tender_initial_state(tender: int | str | None = None) -> State:
    return {
        "tender": tender,
        "code": None,
        "title": None,
        "procedure_type": None,
        "tenderer": None,
        "agent": None,
        "status": None,
        "suspended_from": None,
        "bid_deadline": None,
        "documents_issued": False,
        "documents_available_until": None,
        "publicity_ends_at": None,
        "publicity_ended": False,
        "seal_salt": None,
        "status_history": [],
        "lots": {},
        "documents": {},
        "notices": [],
        "deadline_moves": [],
        "registrations": {"active": 0, "created": 0, "withdrawn": 0, "at_deadline": None, "bidder_hashes": []},
        "questions": {"asked": 0, "answered": 0},
        "objections": {},
        "opening_keys": {},
        "bids": {},
        "opening": {"state": None, "steps": []},
        "draws": {},
        "deposits": {"accounts": 0, "guarantees": 0, "refunds_scheduled": 0, "refunds_overdue": 0, "other": {}},
        "evaluation": {"steps": [], "counts": {}},
        "collusion_checks": [],
        "not_interpreted": [],
        "events": 0,
        "last_event": None,
    }


def tender_summary(state: State) -> dict[str, Any]:
    """Counts derived from the state (what a timeline header shows)."""
    objections = state["objections"].values()
    lots = [lot for lot in state["lots"].values() if not lot.get("deleted")]
    documents = [d for d in state["documents"].values() if not d.get("withdrawn") and not d.get("superseded_by")]
    return {
        "lots": len(lots),
        "documents": len(documents),
        "notices": len(state["notices"]),
        "registrations": state["registrations"]["active"],
        "questions_asked": state["questions"]["asked"],
        "questions_answered": state["questions"]["answered"],
        "objections_raised": len(state["objections"]),
        "objections_open": sum(1 for o in objections if o["status"] == "open"),
        "objections_overdue": sum(1 for o in objections if o.get("overdue_recorded") and o["status"] == "open"),
        "bids": sum(1 for b in state["bids"].values() if b.get("status") in COUNTED_BID_STATUSES),
        "draws": len(state["draws"]),
        "not_interpreted": len(state["not_interpreted"]),
    }


def _key(value: Any) -> str:
    return str(value)


# --- tender ---------------------------------------------------------------------------------

@reducer("tender.created")
def _tender_created(state: State, event: Event) -> None:
    data = event["data"]
    for key in ("code", "title", "tenderer", "agent", "procedure_type", "bid_deadline"):
        if key in data:
            state[key] = data[key]
    state["status"] = state["status"] or "draft"


@reducer("tender.updated")
def _tender_updated(state: State, event: Event) -> None:
    data = event["data"]
    for key in ("title", "tenderer", "procedure_type", "bid_deadline", "documents_available_until"):
        if key in data:
            state[key] = data[key]


@reducer("tender.status_changed")
def _tender_status_changed(state: State, event: Event) -> None:
    data = event["data"]
    to = data.get("to")
    previous = data.get("from", state["status"])
    if to == "suspended":
        state["suspended_from"] = previous
    elif state["status"] == "suspended":
        state["suspended_from"] = None
    state["status"] = to
    if to == "published":
        state["documents_issued"] = True
    if "seal_salt" in data:
        state["seal_salt"] = data["seal_salt"]
    if "registrations" in data:
        state["registrations"]["at_deadline"] = data["registrations"]
    state["status_history"].append({"seq": event.get("seq"), "ts": event.get("ts"), "from": previous, "to": to,
                                    "reason": data.get("reason", "")})


@reducer("tender.deadline_moved")
def _deadline_moved(state: State, event: Event) -> None:
    data = event["data"]
    state["bid_deadline"] = data.get("to", state["bid_deadline"])
    state["deadline_moves"].append({"seq": event.get("seq"), "from": data.get("from"), "to": data.get("to"),
                                    "notice": data.get("notice")})


@reducer("tender.publicity_ended")
def _publicity_ended(state: State, event: Event) -> None:
    state["publicity_ended"] = True
    state["publicity_ends_at"] = event["data"].get("publicity_ends_at", state["publicity_ends_at"])


# --- lots and documents ------------------------------------------------------------------------

@reducer("lot.created")
def _lot_created(state: State, event: Event) -> None:
    data = event["data"]
    state["lots"][_key(data.get("lot"))] = {
        "number": data.get("number"), "title": data.get("title"), "estimated_price": data.get("estimated_price"),
        "deposit_amount": data.get("deposit_amount"), "deleted": False}


@reducer("lot.updated")
def _lot_updated(state: State, event: Event) -> None:
    data = event["data"]
    lot = state["lots"].setdefault(_key(data.get("lot")), {"deleted": False})
    for name in data.get("fields", ()):
        if name in data:
            lot[name] = data[name]


@reducer("lot.deleted")
def _lot_deleted(state: State, event: Event) -> None:
    data = event["data"]
    state["lots"].setdefault(_key(data.get("lot")), {"number": data.get("number")})["deleted"] = True


@reducer("document.uploaded")
def _document_uploaded(state: State, event: Event) -> None:
    data = event["data"]
    state["documents"][_key(data.get("document"))] = {
        "name": data.get("name"), "version": data.get("version"), "sha256": data.get("sha256"),
        "size": data.get("size"), "supersedes": data.get("supersedes"), "superseded_by": None, "withdrawn": False}
    if data.get("supersedes") is not None and _key(data["supersedes"]) in state["documents"]:
        state["documents"][_key(data["supersedes"])]["superseded_by"] = data.get("document")


@reducer("document.withdrawn")
def _document_withdrawn(state: State, event: Event) -> None:
    data = event["data"]
    state["documents"].setdefault(_key(data.get("document")), {"sha256": data.get("sha256")})["withdrawn"] = True


# --- notices -----------------------------------------------------------------------------------

@reducer("notice.published")
def _notice_published(state: State, event: Event) -> None:
    data = event["data"]
    notice = {"seq": event.get("seq"), "ts": event.get("ts"), "notice": data.get("notice"), "kind": data.get("kind"),
              "version": data.get("version"), "content_sha256": data.get("content_sha256")}
    if data.get("documents"):
        notice["documents"] = [{"name": d.get("name"), "sha256": d.get("sha256")} for d in data["documents"]
                               if isinstance(d, Mapping)]
    if data.get("new_deadline"):
        notice["new_deadline"] = data["new_deadline"]
    state["notices"].append(notice)
    for key in ("bid_deadline", "documents_available_until"):
        if data.get(key):
            state[key] = data[key]


# --- registrations, questions, objections (sealed: hashes and counts) ---------------------------

@reducer("registration.created")
def _registration_created(state: State, event: Event) -> None:
    registrations = state["registrations"]
    registrations["created"] += 1
    registrations["active"] += 1
    bidder = event["data"].get("bidder_hash")
    if bidder:
        registrations["bidder_hashes"] = sorted({*registrations["bidder_hashes"], bidder})


@reducer("registration.withdrawn")
def _registration_withdrawn(state: State, event: Event) -> None:
    registrations = state["registrations"]
    registrations["withdrawn"] += 1
    registrations["active"] = max(0, registrations["active"] - 1)
    bidder = event["data"].get("bidder_hash")
    if bidder in registrations["bidder_hashes"]:
        registrations["bidder_hashes"] = [h for h in registrations["bidder_hashes"] if h != bidder]


@reducer("question.asked")
def _question_asked(state: State, event: Event) -> None:
    state["questions"]["asked"] += 1


@reducer("question.answered")
def _question_answered(state: State, event: Event) -> None:
    state["questions"]["answered"] += 1


@reducer("objection.raised")
def _objection_raised(state: State, event: Event) -> None:
    data = event["data"]
    state["objections"][_key(data.get("objection"))] = {
        "status": "open", "raised_seq": event.get("seq"), "reply_due_at": data.get("reply_due_at"),
        "text_sha256": data.get("text_sha256"), "raiser_hash": data.get("raiser_hash"), "overdue_recorded": False,
        "late": None}


@reducer("objection.replied")
def _objection_replied(state: State, event: Event) -> None:
    data = event["data"]
    objection = state["objections"].setdefault(_key(data.get("objection")), {"overdue_recorded": False})
    objection.update({"status": "replied", "reply_sha256": data.get("reply_sha256"), "late": data.get("late")})


@reducer("objection.reply_overdue")
def _objection_overdue(state: State, event: Event) -> None:
    data = event["data"]
    objection = state["objections"].setdefault(_key(data.get("objection")), {"status": "open"})
    objection["overdue_recorded"] = True


# --- sealed bids and the opening --------------------------------------------------------------------

@reducer("opening_key.created")
def _opening_key_created(state: State, event: Event) -> None:
    data = event["data"]
    custodians = data.get("custodians") if isinstance(data.get("custodians"), list) else []
    state["opening_keys"][_key(data.get("lot"))] = {
        "key_id": data.get("opening_key_id", data.get("key_id")), "threshold": data.get("threshold"),
        "share_count": data.get("share_count", len(custodians)), "rebuilt": False}


@family("opening_key")
def _opening_key_event(state: State, event: Event) -> None:
    """Rebuilding a lot's opening key from custodian shares (the decryption fallback)."""
    data = event["data"]
    if event["action"] == "opening_key.rebuilt":
        for key in state["opening_keys"].values():
            if key.get("key_id") == data.get("opening_key_id"):
                key["rebuilt"] = True
    state["opening"]["steps"].append({"seq": event.get("seq"), "ts": event.get("ts"), "action": event["action"]})


# What a bid event says about the bid it concerns (bid.replaced is the *new* bid replacing `replaces`).
_BID_STATUS = {"submitted": "received", "replaced": "received", "withdrawn": "withdrawn", "decrypted": "decrypted",
               "decryption_failed": "decryption_failed", "fallback_marked": "fallback"}
COUNTED_BID_STATUSES = ("received", "decrypted", "decryption_failed", "fallback")


def _bid_key(event: Event) -> str:
    data = event["data"]
    if data.get("bid") is not None:
        return _key(data["bid"])
    obj = str(event.get("object") or "")
    return obj.rsplit(":", 1)[1] if obj.startswith("trading.bid:") else obj


@family("bid")
def _bid_event(state: State, event: Event) -> None:
    """Bids are their envelope hashes until the opening; the read-out becomes part of the state
    when the bid is decrypted (it is public from then on)."""
    data = event["data"]
    verb = event["action"].split(".", 1)[1]
    bid = state["bids"].setdefault(_bid_key(event), {"lot": data.get("lot"), "status": None, "history": []})
    for name in ("envelope_sha256", "size", "lot", "bidder_hash", "bidder", "received_at", "manifest_sha256",
                 "readout", "outcome", "fault"):
        if name in data:
            bid[name] = data[name]
    if isinstance(data.get("files"), list):
        bid["files"] = len(data["files"])
    bid["status"] = _BID_STATUS.get(verb, bid["status"])
    bid["history"].append({"seq": event.get("seq"), "action": event["action"]})
    replaced = data.get("replaces")
    if replaced is not None:
        state["bids"].setdefault(_key(replaced), {"lot": data.get("lot"), "history": []})["status"] = "replaced"


@family("opening")
def _opening_event(state: State, event: Event) -> None:
    """Opening steps in order; the phase follows `to` when the event names one."""
    data = event["data"]
    opening = state["opening"]
    action = event["action"]
    if isinstance(data.get("to"), str):
        opening["state"] = data["to"]
    if action == "opening.read_out" and isinstance(data.get("rows"), list):
        opening["readout"] = data["rows"]
    elif action == "opening.record_published":
        opening["record_sha256"] = data.get("record_sha256")
        opening["record_pdf_sha256"] = data.get("pdf_sha256")
    elif action in ("opening.signed_in", "opening.confirmed", "opening.confirmation_deemed"):
        counts = opening.setdefault("counts", {})
        counts[action.split(".", 1)[1]] = counts.get(action.split(".", 1)[1], 0) + 1
    step = {"seq": event.get("seq"), "ts": event.get("ts"), "action": action}
    for name in ("from", "to", "ends_at", "lot", "organisation", "record_sha256"):
        if name in data:
            step[name] = data[name]
    opening["steps"].append(step)


# --- deposits (sealed until the opening: account and bidder hashes) ---------------------------------

_DEPOSIT_COUNTERS = {"account_opened": "accounts", "guarantee_accepted": "guarantees",
                     "refund_scheduled": "refunds_scheduled", "refund_overdue": "refunds_overdue"}


@family("deposit")
def _deposit_event(state: State, event: Event) -> None:
    deposits = state["deposits"]
    verb = event["action"].split(".", 1)[1]
    counter = _DEPOSIT_COUNTERS.get(verb)
    if counter:
        deposits[counter] += 1
    else:
        deposits["other"][verb] = deposits["other"].get(verb, 0) + 1


# --- expert draws ------------------------------------------------------------------------------------

_DRAW_STATUS = {"committed": "committed", "cancelled": "cancelled", "pool_exhausted": "exhausted"}


def _draw(state: State, data: Mapping) -> dict:
    return state["draws"].setdefault(_key(data.get("draw")), {
        "lot": data.get("lot"), "status": None, "accepted": 0, "vacant_seats": 0, "panel_revealed": False,
        "seed_revealed": False, "steps": 0})


@family("expert_draw")
def _expert_draw_event(state: State, event: Event) -> None:
    data = event["data"]
    draw = _draw(state, data)
    verb = event["action"].split(".", 1)[1]
    draw["steps"] += 1
    if isinstance(data.get("status"), str):
        draw["status"] = data["status"]
    elif verb in _DRAW_STATUS:
        draw["status"] = _DRAW_STATUS[verb]
    if verb == "committed":
        draw["commit_seq"] = event.get("seq")
        request = data.get("request") if isinstance(data.get("request"), Mapping) else {}
        draw["committee_size"] = request.get("committee_size")
    elif verb == "seat_vacant":
        draw["vacant_seats"] += 1
    elif verb == "seed_revealed":
        draw["seed_revealed"] = True


@family("expert_assignment")
def _expert_assignment_event(state: State, event: Event) -> None:
    data = event["data"]
    draw = _draw(state, data)
    draw["steps"] += 1
    if event["action"] == "expert_assignment.accepted":
        draw["accepted"] += 1
        if isinstance(data.get("draw_status"), str):
            draw["status"] = data["draw_status"]


@family("expert_panel")
def _expert_panel_event(state: State, event: Event) -> None:
    data = event["data"]
    draw = _draw(state, data)
    draw["steps"] += 1
    if event["action"] == "expert_panel.revealed":
        draw["panel_revealed"] = True
        draw["panel_size"] = len(data.get("members") or ())


# --- evaluation, publicity, complaints, award, contract ------------------------------------------------

def _evaluation_event(state: State, event: Event) -> None:
    """The steps after the opening, in order, with a count per action (the status moves through
    `tender.status_changed`)."""
    evaluation = state["evaluation"]
    action = event["action"]
    evaluation["counts"][action] = evaluation["counts"].get(action, 0) + 1
    step = {"seq": event.get("seq"), "ts": event.get("ts"), "action": action}
    data = event["data"]
    for name in ("lot", "report", "sha256", "late", "outcome", "decision", "status"):
        if name in data and (data[name] is None or isinstance(data[name], (str, int, bool))):
            step[name] = data[name]
    evaluation["steps"].append(step)


for _prefix in ("evaluation", "evaluation_criteria", "evaluation_report", "candidate_publicity",
                "publicity_objection", "complaint", "award", "contract", "deposit_refunds"):
    family(_prefix)(_evaluation_event)


# --- supervision ---------------------------------------------------------------------------------------

@reducer("collusion.checked")
def _collusion_checked(state: State, event: Event) -> None:
    data = event["data"]
    state["collusion_checks"].append({"seq": event.get("seq"), "check": data.get("check"),
                                      "signals": data.get("signals"), "counts": data.get("counts", {}),
                                      "evidence_sha256": data.get("evidence_sha256")})


replay_profile(initial_state=tender_initial_state, summary=tender_summary)


def tender_seal_salt(tender_id: int) -> str | None:
    """The tender's secret seal salt (None: no such tender), for the replay of sealed events."""
    return Tender.objects.filter(pk=tender_id).values_list("seal_salt", flat=True).first()


replay_seal_salt(tender_seal_salt)
