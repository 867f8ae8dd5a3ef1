"""manage.py demo_auction runs to a sold trade through the real services (fast speeds)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from auctions.models import Trade

pytestmark = pytest.mark.django_db


def test_demo_auction_fast(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("demo_auction", "--acceleration", "864000", "--room-acceleration", "100", "--seed", "7", stdout=out)
    text = out.getvalue()
    trade = Trade.objects.get()
    assert trade.status == "sold" and trade.result_published_at is not None, text
    assert "countdown restarts" in text and "refused" in text and "replay from the audit log: OK" in text
    # The losers' deposits went back through the bank's refund instructions; the winner's went to the price.
    assert "bank: refund executed" in text
    from auctions.models import Buyer, DepositState

    states = {b.pk: b.deposit_state for b in Buyer.objects.filter(trade=trade)}
    assert sorted(states.values()) == sorted([DepositState.APPLIED] + [DepositState.REFUNDED] * (len(states) - 1))
