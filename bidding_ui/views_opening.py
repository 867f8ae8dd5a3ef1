"""Sealed-bid and opening pages: keys, bid preparation (seals in the browser), the live room, the record.

Thin views: a selector gives the objects, a template renders them; the browser does the
cryptography with sbe1.js (private keys never leave it) and talks to the API and the room.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language

from accounts.policy import can
from bidding_ui.opening_display import MONEY_ITEMS, record_lots, room_labels
from bidding_ui.pages import page_view
from realtime.streams import stream_last_id
from trading import phases, selectors
from trading.bids import keys as key_selectors
from trading.bids import submission
from trading.models import READOUT_ITEMS, Opening, OpeningKey, Registration, RegistrationStatus
from trading.opening import selectors as opening_selectors
from trading.opening.room import room_key, room_state


@login_required
def keys_page(request):
    """Generate a key pair in the browser, download the key file, register the public key."""
    user = request.user
    return render(request, "opening/keys.html", {
        "keys": key_selectors.keys_of(user=user),
        "may_org": can(user, "sbe1_key.register_organisation"),
        "may_custodian": can(user, "sbe1_key.register_custodian"),
    })


@login_required
@page_view()
def bid_page(request, pk: int):
    """Prepare a bid for a lot: fill the read-out items, pick files, seal and sign locally, upload."""
    lot = selectors.lot_get(user=request.user, pk=pk)
    if not can(request.user, "bid.submit", lot):
        raise PermissionDenied
    tender = lot.tender
    registration = Registration.objects.filter(lot=lot, bidder_id=request.user.organisation_id,
                                               status=RegistrationStatus.REGISTERED).first()
    opening_key = OpeningKey.objects.filter(lot=lot).first()
    items = [{"key": k, "label": str(READOUT_ITEMS.get(k, k))} for k in tender.readout_items]
    return render(request, "opening/bid.html", {
        "lot": lot,
        "tender": tender,
        "registration": registration,
        "opening_key": opening_key,
        "items": items,
        "bids": submission.bids_of_org(org_id=request.user.organisation_id, lot=lot),
        "open": phases.TENDER.allows(phases.tender_phase(tender), phases.REGISTERED, "prepare_bid"),
        "config": {
            "tender": str(tender.pk), "lot": str(lot.pk), "bidder": str(request.user.organisation_id),
            "openingSpki": opening_key.public_spki if opening_key else None,
            "maxBytes": lot.max_envelope_bytes,
            "uploadUrl": f"/api/v1/tenders/{tender.pk}/lots/{lot.pk}/bids",
            "items": [i["key"] for i in items],
        },
    })


@page_view()
def room_page(request, pk: int):
    """The live opening room (everyone may watch; what each sees depends on who they are)."""
    tender = opening_selectors.room_tender(user=request.user, pk=pk)
    user = request.user
    org_id = getattr(user, "organisation_id", None)
    # Only the "event #" shown until the socket's snapshot replaces page state and id: a plain read, not
    # room_snapshot's stream lock, which would queue every page load behind the room's publishing.
    last_id = stream_last_id(room_key(tender.pk))
    # What this viewer is offered in each phase of the room (trading/phases.py, OPENING): room.js shows a
    # control only when the room's current phase offers it, so a closed room offers nothing.
    roles = [phases.WATCHER]
    if can(user, "opening.host", tender):
        roles.append(phases.HOST)
    if can(user, "bid.submit"):
        roles.append(phases.ROOM_BIDDER)
    if can(user, "sbe1_key.register_custodian"):
        roles.append(phases.CUSTODIAN)
    initial = room_state(tender=tender, user=user)
    actions = phases.opening_room_actions(roles, phases.tender_phase(tender))
    return render(request, "opening/room.html", {
        "tender": tender,
        "offered": actions.get(initial.get("state") or "waiting", []),
        "config": {
            "tender": tender.pk,
            "ws": f"/ws/opening/{tender.pk}/?lang={get_language()}",
            "actions": actions,
            "serverTime": timezone.now().isoformat(),
            "org": str(org_id) if org_id else None,
            "host": can(user, "opening.host", tender),
            "bidder": can(user, "bid.submit"),
            "custodian": can(user, "sbe1_key.register_custodian"),
            "sharesUrl": f"/api/v1/custodian/shares?tender={tender.pk}",
            "labels": room_labels(),
            "moneyItems": sorted(MONEY_ITEMS),
            "lang": get_language(),
            "lastId": last_id,
        },
        "initial": initial,
    })


@page_view()
def record_page(request, pk: int):
    tender = opening_selectors.room_tender(user=request.user, pk=pk)
    opening = Opening.objects.filter(tender=tender).first()
    if opening is None or not opening.record_sha256 or not can(request.user, "opening.view_record", opening):
        return render(request, "opening/record.html", {"tender": tender, "record": None}, status=404)
    record = json.loads(opening.record_json)
    items, lots = record_lots(record)
    return render(request, "opening/record.html", {"tender": tender, "opening": opening, "record": record,
                                                   "items": items, "lots": lots})
