"""The opening room's state: audiences, sections, snapshots and the event reducer.

Stream key "opening:tender:<id>". The room state is a JSON object; every event is an
update of one entry of one section, so a client that applies the events after a
snapshot, in id order, holds exactly what `room_state(user)` returns at that id
(tests/bidding_ui/test_opening_consumer.py checks it; room.js applies the same rules):

    kind                payload                         effect
    phase               {state, phase_started_at,       state.update(payload)            (public)
                         phase_ends_at}
    room.opened         {lots, bids, signins, readout,  state.update(payload)            (room)
                         confirmations, objections,
                         fallback}
    lot|bid|readout.row|signin|confirmation|objection|fallback
                        {key, entry}                    state[SECTION][key] = entry      (room)
    private             {org, key, entry}               state.private[org][key] = entry  (that bidder)
    record.published    {record, readout, lots}         state.update(payload)            (public)

Audiences (who receives an event; others get a redacted placeholder with its id):
- public: everyone, also anonymous visitors (phase changes, the published record);
- room: the tender's agent and tenderer organisations, every organisation with a bid at
  the deadline, the custodians of the tender's opening keys (and supervisors, who see
  everything);
- one bidder: that organisation (its own decryption controls and errors).
`room_state(user)` includes a section exactly when `audience_allows` lets the user
receive the events that build it, so snapshots and events agree for every viewer.
Nothing is published about bids before the deadline (电子招标投标办法 Art 21).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from audit.canonical import normalize
from bidding_ui.streams import PUBLIC, audience_allows
from trading.models import (
    READOUT_ITEMS,
    Bid,
    BidOpening,
    BidOpeningStatus,
    BidStatus,
    Confirmation,
    KeyShare,
    LotOpening,
    Opening,
    OpeningObjection,
    OpeningState,
    RegistrationStatus,
    ShareRelease,
    SignIn,
    Tender,
)

SECTION_OF = {
    "lot": "lots",
    "bid": "bids",
    "readout.row": "readout",
    "signin": "signins",
    "confirmation": "confirmations",
    "objection": "objections",
    "fallback": "fallback",
}
ROOM_SECTIONS = ("lots", "bids", "signins", "readout", "confirmations", "objections", "fallback")


def room_key(tender_id: int) -> str:
    return f"opening:tender:{tender_id}"


# --- audiences ------------------------------------------------------------------------------


def room_audience(tender: Tender) -> dict:
    orgs = {tender.agent_id, tender.tenderer_id}
    if tender.bidding_closed_at is not None:
        orgs |= set(Bid.objects.filter(tender=tender, status=BidStatus.ACTIVE,
                                       registration__status=RegistrationStatus.REGISTERED)
                    .values_list("bidder_id", flat=True))
    users = set(KeyShare.objects.filter(opening_key__tender=tender).values_list("custodian_id", flat=True))
    return {"orgs": sorted(orgs), "users": sorted(users)}


def bidder_audience(org_id: int) -> dict:
    return {"orgs": [org_id]}


def public_audience() -> dict:
    return dict(PUBLIC)


# --- entries (shared by snapshots and event payloads) -------------------------------------------------


def phase_payload(opening: Opening) -> dict:
    return {"state": opening.state, "phase_started_at": opening.phase_started_at,
            "phase_ends_at": opening.phase_ends_at}


def lot_entry(lot_opening: LotOpening) -> dict:
    lot = lot_opening.lot
    return {"number": lot.number, "title": lot.title, "bids": lot_opening.bid_count, "outcome": lot_opening.outcome}


def bid_entry(bo: BidOpening) -> dict:
    bid = bo.bid
    return {
        "lot": bid.lot_id,
        "lot_number": bid.lot.number,
        "bidder": bid.bidder_id,
        "bidder_name": bid.bidder.name,
        "envelope_sha256": bid.envelope_sha256,
        "status": bo.status,
        "method": bo.method or None,
        "fallback_reason": bo.fallback_reason or None,
        "fault": bo.fault or None,
        "outcome": bo.outcome or None,
        "failure_code": bo.failure_code or None,
    }


def readout_row(bo: BidOpening) -> dict:
    bid = bo.bid
    return {
        "lot": bid.lot_id,
        "lot_number": bid.lot.number,
        "bidder": bid.bidder_id,
        "bidder_name": bid.bidder.name,
        "status": bo.status,
        "items": bo.readout if bo.status == BidOpeningStatus.DECRYPTED else {},
        "outcome": bo.outcome or None,
        "deposit": bo.deposit_status or None,
    }


def private_entry(bo: BidOpening) -> dict:
    bid = bo.bid
    return {
        "lot": bid.lot_id,
        "lot_number": bid.lot.number,
        "envelope_sha256": bid.envelope_sha256,
        "status": bo.status,
        "attempts": bo.attempts,
        "last_error": bo.last_error or None,
        "header_url": reverse("api-bid-header", args=[bid.public_id]),
    }


def signin_entry(signin: SignIn) -> dict:
    return {"name": signin.organisation.name, "at": signin.signed_in_at}


def confirmation_entry(c: Confirmation) -> dict:
    return {"name": c.organisation.name, "kind": c.kind, "at": c.at}


def objection_entry(o: OpeningObjection) -> dict:
    return {
        "org": o.organisation_id,
        "org_name": o.organisation.name,
        "text": o.text,
        "raised_at": o.raised_at,
        "answer": o.answer or None,
        "answered_at": o.answered_at,
    }


def fallback_entry(lot_opening: LotOpening) -> dict:
    key = lot_opening.lot.opening_key
    released = ShareRelease.objects.filter(key_share__opening_key=key).select_related("key_share")
    return {
        "opening_key_id": key.key_id,
        "threshold": key.threshold,
        "released": sorted(r.key_share.role for r in released),
        "bids": BidOpening.objects.filter(bid__lot=lot_opening.lot, status=BidOpeningStatus.FALLBACK).count(),
    }


def record_entry(opening: Opening) -> dict:
    tid = opening.tender_id
    return {
        "sha256": opening.record_sha256,
        "pdf_sha256": opening.record_pdf_sha256,
        "published_at": opening.record_published_at,
        "json_url": reverse("api-opening-record", args=[tid]),
        "pdf_url": reverse("api-opening-record-pdf", args=[tid]),
        "page_url": reverse("opening:record", args=[tid]),
    }


def _bid_openings(opening: Opening):
    return opening.bid_openings.select_related("bid", "bid__lot", "bid__bidder").order_by(
        "bid__lot__number", "bid__received_at", "bid_id")


def lots_section(opening: Opening) -> dict:
    return {str(lo.lot_id): lot_entry(lo) for lo in opening.lots.select_related("lot").order_by("lot__number")}


def readout_section(opening: Opening) -> dict:
    return {str(bo.bid.public_id): readout_row(bo) for bo in _bid_openings(opening)
            if bo.status in (BidOpeningStatus.DECRYPTED, BidOpeningStatus.FAILED)}


def fallback_section(opening: Opening) -> dict:
    return {str(lo.lot_id): fallback_entry(lo) for lo in opening.lots.select_related("lot", "lot__opening_key")
            if lo.outcome == "opened"}


def room_sections(opening: Opening) -> dict:
    return {
        "lots": lots_section(opening),
        "bids": {str(bo.bid.public_id): bid_entry(bo) for bo in _bid_openings(opening)},
        "signins": {str(s.organisation_id): signin_entry(s) for s in opening.signins.select_related("organisation")},
        "readout": readout_section(opening),
        "confirmations": {str(c.organisation_id): confirmation_entry(c)
                          for c in opening.confirmations.select_related("organisation")},
        "objections": {str(o.pk): objection_entry(o) for o in opening.objections.select_related("organisation")},
        "fallback": fallback_section(opening),
    }


def tender_section(tender: Tender) -> dict:
    return {
        "id": tender.pk,
        "code": tender.code,
        "title": tender.title,
        "bid_deadline": tender.bid_deadline,
        "readout_items": [{"key": k, "label": str(READOUT_ITEMS.get(k, k))} for k in tender.readout_items],
    }


def room_state(*, tender: Tender, user: Any) -> dict:
    """The room as `user` may see it (runs inside the snapshot transaction)."""
    opening = Opening.objects.filter(tender=tender).first()
    state: dict[str, Any] = {"tender": tender_section(tender)}
    if opening is None:
        state.update({"state": OpeningState.WAITING.value, "phase_started_at": None,
                      "phase_ends_at": tender.bid_deadline})
        return normalize(state)
    state.update(phase_payload(opening))
    if audience_allows(room_audience(tender), user):
        state.update(room_sections(opening))
    private: dict[str, dict] = {}
    for bo in _bid_openings(opening):
        if audience_allows(bidder_audience(bo.bid.bidder_id), user):
            private.setdefault(str(bo.bid.bidder_id), {})[str(bo.bid.public_id)] = private_entry(bo)
    if private:
        state["private"] = private
    if opening.record_published_at is not None:
        state.update(record_published_payload(opening))
    return normalize(state)


def record_published_payload(opening: Opening) -> dict:
    return {"record": record_entry(opening), "readout": readout_section(opening), "lots": lots_section(opening)}


# --- the reducer (room.js implements the same) ------------------------------------------------------


def apply_event(state: dict, kind: str, payload: dict) -> dict:
    """Apply one room event to a client-side state (in place; returns it)."""
    if kind in ("phase", "room.opened", "record.published"):
        state.update(payload)
    elif kind in SECTION_OF:
        state.setdefault(SECTION_OF[kind], {})[str(payload["key"])] = payload["entry"]
    elif kind == "private":
        state.setdefault("private", {}).setdefault(str(payload["org"]), {})[str(payload["key"])] = payload["entry"]
    return state
