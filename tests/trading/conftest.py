"""Trading tests: English messages, their own media root, and the opening starter detached outside
tests/trading/bids and tests/trading/opening. The cast, tenders and the clock are shared fixtures
(tests/fixtures/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.directory import _english, _media_root  # noqa: F401

HERE = Path(__file__).resolve().parent
# The sealed-bid and opening tests run the whole deadline step, opening included.
OPENING_ATTACHED = (HERE / "bids", HERE / "opening")


@pytest.fixture(autouse=True)
def _opening_detached(request, monkeypatch):
    """The tendering tests check the bid_deadline step alone (the tender stays bidding_closed): the
    sealed-bid opening starter is detached, except for the tests under OPENING_ATTACHED."""
    if any(d in request.node.path.parents for d in OPENING_ATTACHED):
        return
    from trading.opening.steps import start_opening
    from trading.services import opening_hook

    monkeypatch.setattr(opening_hook, "_STARTERS", [s for s in opening_hook._STARTERS if s is not start_opening])
