"""Public identifiers (docs/tendering.md, "Public identifiers"): registrations, bids and deposit
sub-accounts are addressed by random UUIDs, and "not yours" answers exactly like "does not exist"."""

from __future__ import annotations

import uuid

import pytest

from tests.trading.sealed import bidder_with_key, submit
from trading.models import Bid, Registration
from trading.models.deposit import DepositAccount
from trading.services.registrations import registration_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(published, cast):
    lot = published.lots.get()
    mine, _ = registration_create(actor=cast.bidders[0], lot=lot)
    theirs, _ = registration_create(actor=cast.bidders[1], lot=lot)
    return mine, theirs


def _same_404(client, own: str, other: str, absent: str) -> None:
    """The owner reads its object; another organisation's and a made-up id get identical 404s."""
    assert client.get(own).status_code == 200
    refused, missing = client.get(other), client.get(absent)
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()


def test_registration_ids_are_random_and_not_counted(two, cast, api):
    mine, theirs = two
    client = api.as_user(cast.bidders[0])
    body = client.get(f"/api/v1/registrations/{mine.public_id}").json()["registration"]
    assert body["id"] == str(mine.public_id) and uuid.UUID(body["id"]).version == 4
    assert str(mine.pk) != body["id"] and mine.public_id != theirs.public_id
    # The integer primary key no longer addresses anything.
    assert client.get(f"/api/v1/registrations/{theirs.pk}").status_code == 404
    assert client.get(f"/api/v1/deposits/registrations/{theirs.pk}").status_code == 404
    _same_404(client, f"/api/v1/registrations/{mine.public_id}", f"/api/v1/registrations/{theirs.public_id}",
              f"/api/v1/registrations/{uuid.uuid4()}")


def test_deposit_registration_endpoint_does_not_tell_others_from_nothing(two, cast, api):
    """Finding 5: 403 (exists, not yours) against 404 (no such id) counted every registration."""
    mine, theirs = two
    client = api.as_user(cast.bidders[0])
    own = client.get(f"/api/v1/deposits/registrations/{mine.public_id}")
    assert own.status_code == 200, own.content
    account = DepositAccount.objects.get(registration=mine)
    assert own.json()["account"]["id"] == str(account.public_id)
    assert own.json()["account"]["registration"] == str(mine.public_id)
    _same_404(client, f"/api/v1/deposits/registrations/{mine.public_id}",
              f"/api/v1/deposits/registrations/{theirs.public_id}", f"/api/v1/deposits/registrations/{uuid.uuid4()}")
    other_account = api.as_user(cast.bidders[1]).get(f"/api/v1/deposits/registrations/{theirs.public_id}")
    assert other_account.status_code == 200
    client = api.as_user(cast.bidders[0])
    _same_404(client, f"/api/v1/deposits/accounts/{account.public_id}",
              f"/api/v1/deposits/accounts/{other_account.json()['account']['id']}",
              f"/api/v1/deposits/accounts/{uuid.uuid4()}")


def test_bid_ids_are_random_and_not_yours_is_404(published, cast, api):
    lot = published.lots.get()
    bidders = [bidder_with_key(user) for user in cast.bidders[:2]]
    for bidder in bidders:
        bidder.registration, _ = registration_create(actor=bidder.user, lot=lot)
    first = submit(lot, bidders[0])
    second = submit(lot, bidders[1])
    assert uuid.UUID(first["id"]) and first["id"] != str(Bid.objects.get(public_id=first["id"]).pk)
    replaced = submit(lot, bidders[0], price="900000.00")
    assert replaced["replaces"] == first["id"]
    client = api.as_user(bidders[0].user)
    _same_404(client, f"/api/v1/bids/{first['id']}", f"/api/v1/bids/{second['id']}", f"/api/v1/bids/{uuid.uuid4()}")
    assert client.post(f"/api/v1/bids/{second['id']}/withdraw").status_code == 404
    assert client.get(f"/api/v1/bids/{Bid.objects.get(public_id=second['id']).pk}").status_code == 404


def test_bidder_pages_use_public_ids(two, cast, client):
    mine, theirs = two
    client.force_login(cast.bidders[0])
    assert client.get(f"/bidder/registrations/{mine.public_id}/").status_code == 200
    assert client.get(f"/bidder/registrations/{theirs.public_id}/").status_code == 404
    assert client.get(f"/bidder/registrations/{mine.pk}/").status_code == 404
    home = client.get("/bidder/").content.decode()
    assert str(mine.public_id) in home and str(theirs.public_id) not in home
    account = DepositAccount.objects.get(registration=mine)
    assert client.get(f"/bidder/deposits/{account.public_id}/").status_code == 200


def test_existing_rows_have_distinct_public_ids(two):
    ids = list(Registration.objects.values_list("public_id", flat=True))
    assert len(set(ids)) == len(ids) == 2 and all(i is not None for i in ids)
