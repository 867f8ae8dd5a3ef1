"""Sealed-bid fixtures: a published tender whose three bidders are registered and hold keys."""

from __future__ import annotations

import pytest

from tests.trading.sealed import bidder_with_key


@pytest.fixture(autouse=True)
def _opening_detached():
    """Keep the opening starter attached (overrides tests/trading/conftest.py)."""


@pytest.fixture
def bidding(published, cast):
    from trading.services.registrations import registration_create

    class Bidding:
        pass

    b = Bidding()
    b.tender = published
    b.lot = published.lots.get()
    b.bidders = []
    for user in cast.bidders:
        sealed = bidder_with_key(user)
        sealed.registration, _ = registration_create(actor=user, lot=b.lot)
        b.bidders.append(sealed)
    b.cast = cast
    return b
