"""Helpers for sealed-bid and opening tests: bidders with keys, sealing, uploading, moving time."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import timedelta

from django.test import Client

import sbe1
from accounts.tokens import token_issue


@dataclass
class SealedBidder:
    user: object
    org: object
    key: object  # P-256 private key (as in the bidder's key file)
    token: str
    registration: object = None
    envelopes: dict = field(default_factory=dict)

    @property
    def org_id(self) -> int:
        return self.org.pk


def bidder_with_key(user) -> SealedBidder:
    from trading.bids.keys import key_register

    key = sbe1.generate_private_key()
    key_register(actor=user, public_key=sbe1.spki_b64(key), holder="organisation", label="test")
    return SealedBidder(user=user, org=user.organisation, key=key, token=token_issue(user=user))


def seal(lot, bidder: SealedBidder, *, price: str = "1000000.00", form: dict | None = None, files=None,
         chunk_size: int = 1024, bidder_id: str | None = None, tender_id: str | None = None, lot_id: str | None = None,
         opening_spki: str | None = None) -> bytes:
    form = form if form is not None else {"price": price, "currency": "CNY", "duration_days": 180}
    files = files if files is not None else [("technical.pdf", b"%PDF-1.4 technical proposal " * 200)]
    out = io.BytesIO()
    sbe1.seal_bid(form, files, out, tender=tender_id or str(lot.tender_id), lot=lot_id or str(lot.pk),
                  bidder=bidder_id or str(bidder.org_id), bidder_key=sbe1.spki_der(bidder.key),
                  opening_key=opening_spki or lot.opening_key.public_spki, chunk_size=chunk_size)
    return out.getvalue()


def sign(bidder: SealedBidder, envelope: bytes) -> str:
    return sbe1.sign_envelope(bidder.key, envelope)


def upload(lot, bidder: SealedBidder, envelope: bytes, *, signature: str | None = None, client: Client | None = None,
           tender_id: int | None = None, **headers):
    client = client or Client()
    extra = {"HTTP_AUTHORIZATION": f"Token {bidder.token}"}
    sig = sign(bidder, envelope) if signature is None else signature
    if sig:
        extra["HTTP_X_ENVELOPE_SIGNATURE"] = sig
    extra.update(headers)
    url = f"/api/v1/tenders/{tender_id or lot.tender_id}/lots/{lot.pk}/bids"
    return client.post(url, data=envelope, content_type="application/octet-stream", **extra)


def submit(lot, bidder: SealedBidder, **kw) -> dict:
    """Seal, sign and upload; returns the API's bid JSON (asserting 201)."""
    envelope = seal(lot, bidder, **kw)
    response = upload(lot, bidder, envelope)
    assert response.status_code == 201, response.content
    bidder.envelopes[response.json()["id"]] = envelope
    return response.json()


def dek_of(bidder: SealedBidder, envelope: bytes) -> str:
    """What `python -m sbe1 decrypt-dek` prints: the bidder unwraps its DEK locally."""
    return base64.b64encode(sbe1.unwrap_dek(sbe1.parse_header(envelope), bidder.key, "bidder")).decode()


def run_steps() -> list:
    from trading.services.scheduling import steps_run_due

    return steps_run_due()


def pass_deadline(clock, tender, seconds: float = 1) -> None:
    clock.move_to(tender.bid_deadline + timedelta(seconds=seconds))
    run_steps()


def end_phase(clock, tender) -> None:
    """Move the clock to the end of the current opening phase and run the due steps."""
    from trading.models import Opening

    opening = Opening.objects.get(tender=tender)
    assert opening.phase_ends_at is not None, opening.state
    clock.move_to(opening.phase_ends_at + timedelta(seconds=1))
    run_steps()


@dataclass
class Scenario:
    tender: object
    lot: object
    agent: object
    supervisor: object
    custodians: dict
    bidders: list


def scenario(make_org, make_user, *, bidders: int = 3, readout_items=("duration_days",)) -> Scenario:
    """A published works tender with one lot, custodians with keys, `bidders` registered bidders with keys."""
    from decimal import Decimal

    from tests.trading.custodians import make_custodians
    from tests.trading.helpers import pdf
    from trading import clock
    from trading.services.documents import document_upload
    from trading.services.registrations import registration_create
    from trading.services.tenders import lot_create, tender_create, tender_publish

    tenderer_org, agent_org = make_org("Tenderer Bureau"), make_org("Agent Co")
    agent = make_user("agent", org=agent_org)
    make_user("tenderer", org=tenderer_org)
    custodians = make_custodians(make_user, agent_org)
    tender = tender_create(actor=agent, title="Bridge repair", tenderer=tenderer_org, procedure_type="works",
                           bid_deadline=clock.now() + timedelta(days=30), readout_items=list(readout_items))
    lot = lot_create(actor=agent, tender=tender, title="Lot 1", estimated_price=Decimal("10000000.00"),
                     deposit_amount=Decimal("100000.00"))
    document_upload(actor=agent, tender=tender, file=pdf())
    tender_publish(actor=agent, tender=tender)
    tender.refresh_from_db()
    lot.refresh_from_db()
    sealed = []
    for i in range(bidders):
        b = bidder_with_key(make_user("bidder", org=make_org(f"Bidder {i + 1} Co")))
        b.registration, _ = registration_create(actor=b.user, lot=lot)
        sealed.append(b)
    return Scenario(tender, lot, agent, make_user("supervisor"), custodians, sealed)
