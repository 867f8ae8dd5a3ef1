"""A barred enterprise is refused at every entry point, with the record named, and admitted again once
the bar has passed (no job runs): tender registration, fixed-price registration, the fixed-price
drawing (excluded with the reason shown to supervisors), auction buying (credit.services.access_check,
the function auctions/ calls)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from credit.rules import RecordKind
from credit.services import AccessBarred, access_check, record_decide, record_propose
from smallworks.services import drawing_start, entry_register, entry_review, review_publish
from tests.smallworks.conftest import document
from trading import clock as trading_clock
from trading.services.registrations import registration_create


def test_barred_everywhere_then_admitted(fp, cast, published, make_project, clock, api):  # noqa: F811
    org, user = cast.bidder_orgs[0], cast.bidders[0]
    record = record_propose(kind=RecordKind.REFUSED_TO_SIGN, organisation=org, facts="did not sign", at=clock.now())
    record = record_decide(actor=cast.supervisor, record=record, publish=True, reason="confirmed", at=clock.now())
    project = make_project(deposit=Decimal("0"))
    lot = published.lots.get()

    with pytest.raises(AccessBarred, match=record.number):
        registration_create(actor=user, lot=lot)
    r = api.as_user(user).post(f"/api/v1/fixed-price/projects/{project.public_id}/entries",
                               {"documents": [document()]}, format="multipart")
    assert r.status_code == 403 and r.json()["error"]["code"] == "credit_barred"
    assert record.number in r.json()["error"]["message"]
    with pytest.raises(AccessBarred, match=record.number):
        access_check(org, "auction_bidding", at=trading_clock.now())

    # Registered before the bar: excluded from the drawing, the reason names the record.
    record_late = record_propose(kind=RecordKind.FALSE_DOCUMENTS, organisation=fp.orgs[0], facts="forged",
                                 at=clock.now())
    entries = [entry_register(actor=b, project=project, documents=[document()])[0] for b in fp.bidders[:3]]
    record_decide(actor=cast.supervisor, record=record_late, publish=True, reason="forgery", at=clock.now())
    clock.advance(days=5, minutes=1)
    for e in entries:
        entry_review(actor=fp.agent, entry=e, passed=True, reasons="ok")
    review_publish(actor=fp.agent, project=project)
    clock.advance(days=4)
    drawing = drawing_start(actor=fp.agent, project=project)
    excluded = {x["organisation"]: x for x in drawing.excluded}
    assert excluded[fp.orgs[0].pk]["reason"] == "credit_barred"
    assert record_late.number in excluded[fp.orgs[0].pk]["detail"]
    assert fp.orgs[0].pk not in {p.organisation_id for p in drawing.picks.all()}

    # The bar ends by itself.
    clock.move_to(record.bar_until + timedelta(seconds=1))
    access_check(org, "auction_bidding", at=trading_clock.now())
    access_check(org, "fixed_price_drawing", at=trading_clock.now())
    later = make_project(deposit=Decimal("0"))
    r = api.as_user(user).post(f"/api/v1/fixed-price/projects/{later.public_id}/entries",
                               {"documents": [document()]}, format="multipart")
    assert r.status_code == 201, r.content


def test_barred_enterprise_refused_on_the_page(fp, make_project, clock, client):
    record = record_propose(kind=RecordKind.COLLUSION, organisation=fp.orgs[0], facts="confirmed", at=clock.now())
    record = record_decide(actor=fp.supervisor, record=record, publish=True, reason="confirmed", at=clock.now())
    project = make_project(deposit=Decimal("0"))
    client.force_login(fp.bidders[0])
    response = client.post(f"/fixed-price/{project.public_id}/register", {"documents": document()}, follow=True)
    assert record.number in response.content.decode()
    assert not project.entries.exists()
