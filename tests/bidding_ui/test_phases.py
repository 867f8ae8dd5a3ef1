"""The phase tables (trading/phases.py) and the pages that follow them: each phase offers only its actions.

The tender is published through the services; later phases are set on the row (the e2e phase tour,
tests/e2e/test_09_phase_tour.py, reaches each of them through the real services instead): what is
checked here is that every page asks the table, in every phase, for every role.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client

from trading import phases
from trading.models import Tender

ROOT = Path(__file__).resolve().parents[2]
LATER = ["deadline_passed", "opening", "evaluating", "publicity", "awarded", "contracted", "failed", "cancelled"]
STATUS_OF = {"deadline_passed": "bidding_closed"}


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def at_phase(tender: Tender, phase: str) -> Tender:
    if phase == "published":
        return tender
    Tender.objects.filter(pk=tender.pk).update(status=STATUS_OF.get(phase, phase),
                                               bidding_closed_at=tender.bid_deadline)
    tender.refresh_from_db()
    return tender


@pytest.fixture
def registered(published, cast):
    from trading.services.registrations import registration_create

    registration, _ = registration_create(actor=cast.bidders[0], lot=published.lots.get())
    return registration


# --- the tables --------------------------------------------------------------------------------------


def test_docs_hold_the_tables_as_the_code_has_them():
    """docs/ui.md, "Phase tables", is the Markdown of every table (regenerate with trading.phases.markdown())."""
    assert phases.markdown() in (ROOT / "docs" / "ui.md").read_text(encoding="utf-8")


def test_every_action_of_every_table_has_a_label():
    for table in phases.TABLES:
        assert set(table.all_actions()) <= set(table.labels), table.name


def test_a_table_refuses_unknown_phases_and_roles():
    with pytest.raises(ValueError):
        phases.PhaseTable(name="x", phases=("a",), roles=("r",), rows={"b": {}})
    with pytest.raises(ValueError):
        phases.PhaseTable(name="x", phases=("a",), roles=("r",), rows={"a": {"s": ("go",)}})


def test_opening_guards_are_the_room_table():
    """The room's services accept each command exactly in the phases the room page offers it."""
    assert phases.opening_states("sign_in") == ("signing_in", "decrypting")
    assert phases.opening_states("confirm") == ("confirming",)
    assert phases.opening_states("raise_objection") == ("reading_out", "confirming", "objections")
    assert phases.opening_states("submit_share") == ("fallback",)
    for state in ("waiting", "closed", "failed"):
        assert phases.opening_room_actions([phases.HOST, phases.ROOM_BIDDER, phases.CUSTODIAN])[state] == []


def test_a_room_page_opened_before_the_opening_knows_the_later_phases():
    """Bidders wait in the room for the deadline; the room goes live over the socket, no reload."""
    for tender_phase in ("published", "deadline_passed", "opening"):
        actions = phases.opening_room_actions([phases.ROOM_BIDDER], tender_phase)
        assert "sign_in" in actions["signing_in"] and "confirm" in actions["confirming"]
    for tender_phase in ("evaluating", "failed", "cancelled", "contracted"):
        assert not any(phases.opening_room_actions([phases.ROOM_BIDDER], tender_phase).values())


def test_room_page_loaded_before_the_deadline_offers_the_later_phases(published, cast, registered):
    config, _page = _room_config(login(cast.bidders[0]), published)
    assert config["actions"]["waiting"] == [] and "sign_in" in config["actions"]["signing_in"]


def test_tender_phase_turns_at_the_deadline(published, clock):
    assert phases.tender_phase(published) == "published"
    clock.move_to(published.bid_deadline + timedelta(seconds=1))
    assert phases.tender_phase(published) == "deadline_passed"  # before the deadline step has run


def test_result_notices_follow_the_phase():
    expected = {
        "draft": [], "published": ["termination"], "deadline_passed": ["failure", "termination"],
        "evaluating": ["candidate_publicity", "failure", "termination"],
        "publicity": ["award_result", "failure", "termination"], "awarded": ["failure"],
        "contracted": [], "failed": [], "cancelled": [],
    }
    for phase, kinds in expected.items():
        assert sorted(phases.RESULT_NOTICE.actions(phase, "agent")) == sorted(kinds), phase


# --- the pages ---------------------------------------------------------------------------------------


def test_public_tender_page_before_the_deadline_says_sealed(published):
    page = html(Client().get(f"/tenders/{published.pk}/"))
    assert page.count("sealed until the bid deadline") == 2  # registrations and downloads


@pytest.mark.parametrize("phase", LATER)
def test_public_tender_page_after_the_deadline_never_says_sealed(published, phase):
    tender = at_phase(published, phase)
    page = html(Client().get(f"/tenders/{tender.pk}/"))
    assert "sealed until" not in page
    assert "/register/" not in page
    assert (f"/tenders/{tender.pk}/results/" in page) == (phase in ("publicity", "awarded", "contracted"))


def test_bidder_is_offered_registration_questions_and_objections_only_while_bidding_is_open(published, cast, clock):
    bidder = login(cast.bidders[1])
    page = html(bidder.get(f"/tenders/{published.pk}/"))
    assert "/register/" in page and f"/bidder/tenders/{published.pk}/ask/" in page
    clock.move_to(published.bid_deadline + timedelta(seconds=1))  # the deadline step has not run yet
    page = html(bidder.get(f"/tenders/{published.pk}/"))
    assert "/register/" not in page and "/ask/" not in page and "/object/" not in page
    assert "sealed until" not in page


@pytest.mark.parametrize("phase", ["published", *LATER])
def test_agent_page_offers_the_result_notices_of_the_phase(published, cast, phase):
    tender = at_phase(published, phase)
    page = html(login(cast.agent).get(f"/agent/tenders/{tender.pk}/"))
    offered = re.findall(r'<option value="([a-z_]+)"', page.split("/notice/", 1)[1]) if "/notice/" in page else []
    assert sorted(offered) == sorted(phases.RESULT_NOTICE.actions(phase, "agent")), phase
    assert ("/amendment/" in page) == (phase == "published")
    assert "/publish/" not in page


def test_contracted_tender_refuses_a_result_notice_posted_anyway(published, cast):
    tender = at_phase(published, "contracted")
    response = login(cast.agent).post(f"/agent/tenders/{tender.pk}/notice/",
                                      {"kind": "candidate_publicity", "title": "t", "body": "b"})
    assert response.status_code == 400
    tender.refresh_from_db()
    assert tender.status == "contracted"


@pytest.mark.parametrize("phase", ["published", *LATER])
def test_registration_page_and_my_registrations_follow_the_phase(published, cast, registered, phase):
    tender = at_phase(published, phase)
    bidder = login(cast.bidders[0])
    page = html(bidder.get(f"/bidder/registrations/{registered.public_id}/"))
    assert (f"/bidder/lots/{registered.lot_id}/bid/" in page) == (phase == "published")
    assert ("/withdraw/" in page) == (phase == "published")
    assert ("Must arrive before" in page) == (phase == "published")
    assert str(phases.REGISTRATION_LABELS[phase]) in page
    home = html(bidder.get("/bidder/"))
    assert f'data-registration="{registered.public_id}" data-phase="{phase}"' in home
    assert tender.code in home


def test_withdrawn_registration_says_withdrawn(published, cast, registered):
    from trading.services.registrations import registration_withdraw

    registration_withdraw(actor=cast.bidders[0], registration=registered)
    home = html(login(cast.bidders[0]).get("/bidder/"))
    assert 'data-phase="withdrawn"' in home


@pytest.mark.parametrize("phase", ["published", "deadline_passed", "contracted"])
def test_bid_page_offers_sealing_only_while_bidding_is_open(published, cast, registered, phase):
    at_phase(published, phase)
    page = html(login(cast.bidders[0]).get(f"/bidder/lots/{registered.lot_id}/bid/"))
    assert ('id="bid-form"' in page) == (phase == "published")


@pytest.mark.parametrize("phase", ["published", "opening", "contracted"])
def test_deposit_page_offers_payment_and_guarantees_only_while_bidding_is_open(published, cast, registered, phase):
    from trading.models.deposit import DepositAccount

    at_phase(published, phase)
    account = DepositAccount.objects.get(registration=registered)
    page = html(login(cast.bidders[0]).get(f"/bidder/deposits/{account.public_id}/"))
    assert ('id="pay-h"' in page) == (phase == "published")
    assert ('enctype="multipart/form-data"' in page) == (phase == "published")
    assert 'data-amount="paid_valid"' in page and 'data-amount="refunded"' in page


def _room_config(client, tender) -> tuple[dict, str]:
    import json

    page = html(client.get(f"/opening/{tender.pk}/"))
    config = json.loads(re.search(r'<script id="room-config" type="application/json">(.*?)</script>', page,
                                  re.S).group(1))
    return config, page


def test_room_page_offers_nothing_in_a_closed_room(published, cast, registered):
    """The room page's phase → actions map (room.js shows a control only when its phase offers it)."""
    bidder = login(cast.bidders[0])
    config, page = _room_config(bidder, at_phase(published, "opening"))
    assert config["actions"]["closed"] == [] and config["actions"]["failed"] == []
    assert config["actions"]["signing_in"] == ["sign_in"]
    assert config["actions"]["confirming"] == ["confirm", "raise_objection"]
    assert config["ws"].endswith("?lang=en")
    assert 'data-cmd="sign_in" hidden disabled' in page


@pytest.mark.parametrize("phase", ["failed", "cancelled", "evaluating"])
def test_room_of_a_tender_outside_its_opening_offers_nothing(published, cast, registered, phase):
    """A tender failed or terminated mid-opening leaves the room's state where it stopped: nothing is offered."""
    config, _page = _room_config(login(cast.bidders[0]), at_phase(published, phase))
    assert all(actions == [] for actions in config["actions"].values())


def test_navigation_has_one_supervision_entry(cast):
    page = html(login(cast.supervisor).get("/notices/"))
    nav = page.split('id="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert nav.count('href="/supervisor/tenders/"') == 1 and 'href="/supervisor/"' not in nav


def test_an_accepted_expert_may_withdraw_until_the_evaluation_starts():
    """After the opening the tender is evaluating, but the panel sits at the draw's evaluation_start."""
    from types import SimpleNamespace

    from django.utils import timezone

    now = timezone.now()
    tender = SimpleNamespace(status="evaluating", bid_deadline=now - timedelta(days=1))
    for start, expected in ((now + timedelta(minutes=2), "accepted_before_evaluation"),
                            (now - timedelta(minutes=1), "accepted_after")):
        seat = SimpleNamespace(status="accepted", draw=SimpleNamespace(tender=tender, evaluation_start=start))
        assert phases.panel_phase(seat, now) == expected
