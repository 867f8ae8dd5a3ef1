"""Who may see who has paid: sealed until the bid deadline (电子招标投标办法 Art 21)."""

from __future__ import annotations

import datetime as dt

import pytest

from trading.deposits.selectors import deposit_status_for, deposit_statuses_for_lot
from trading.models.deposit import DepositStatus
from trading.services.scheduling import steps_run_due

from .conftest import make_transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_paid(registered, notify):
    tender, regs = registered
    notify(make_transfer(regs[0].deposit_account))
    notify(make_transfer(regs[1].deposit_account, "10.00"))
    return tender, regs


def _get(api, user, url):
    api.force_authenticate(user=user)
    return api.get(url)


def test_account_sealed_by_role_before_the_deadline(two_paid, api, cast, make_user):
    tender, regs = two_paid
    url = f"/api/v1/deposits/accounts/{regs[0].deposit_account.public_id}"
    assert _get(api, cast.bidders[0], url).status_code == 200
    assert _get(api, cast.supervisor, url).status_code == 200
    for user in (cast.bidders[1], cast.agent, cast.tenderer, make_user("platform_admin"), cast.public_user):
        assert _get(api, user, url).status_code == 404, user
    api.force_authenticate(user=None)
    assert api.get(url).status_code in (401, 403)


def test_tender_list_sealed_before_the_deadline(two_paid, api, cast, make_user):
    tender, regs = two_paid
    url = f"/api/v1/deposits/tenders/{tender.pk}"
    response = _get(api, cast.supervisor, url)
    assert response.status_code == 200
    assert [(r["bidder"], r["status"]) for r in response.json()] == [
        (regs[0].bidder.name, "paid"), (regs[1].bidder.name, "insufficient"), (regs[2].bidder.name, "none")]
    for user in (cast.bidders[0], cast.agent, cast.tenderer, make_user("platform_admin"), cast.public_user):
        response = _get(api, user, url)
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_my_deposits_shows_only_my_organisation(two_paid, api, cast):
    _, regs = two_paid
    response = _get(api, cast.bidders[1], "/api/v1/deposits/mine")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["registration"] for r in results] == [str(regs[1].public_id)]
    assert results[0]["balance"] == "10.00" and results[0]["required"] == "100000.00"
    assert _get(api, cast.agent, "/api/v1/deposits/mine").status_code == 403


def test_list_opens_at_the_deadline(two_paid, api, cast, make_user, clock):
    tender, regs = two_paid
    clock.move_to(tender.bid_deadline + dt.timedelta(seconds=1))
    steps_run_due()  # the deadline step closes bidding
    tender.refresh_from_db()
    assert tender.status != "published"
    url = f"/api/v1/deposits/tenders/{tender.pk}"
    for user in (cast.agent, cast.tenderer, cast.bidders[2], make_user("platform_admin"), cast.supervisor):
        assert _get(api, user, url).status_code == 200, user
    outsider = make_user("bidder")
    assert _get(api, outsider, url).status_code == 403
    assert _get(api, cast.public_user, url).status_code == 403
    assert _get(api, cast.agent, f"/api/v1/deposits/accounts/{regs[0].deposit_account.public_id}").status_code == 200


def test_list_opens_by_the_clock_even_before_the_deadline_step_ran(two_paid, api, cast, clock):
    tender, _ = two_paid
    clock.move_to(tender.bid_deadline)
    assert _get(api, cast.agent, f"/api/v1/deposits/tenders/{tender.pk}").status_code == 200


def test_deposit_status_for_the_opening_room(two_paid):
    tender, regs = two_paid
    assert deposit_status_for(regs[0]) == DepositStatus.PAID
    assert deposit_status_for(regs[1]) == "insufficient"
    assert deposit_status_for(regs[2].pk) == DepositStatus.NONE
    assert deposit_statuses_for_lot(tender.lots.get()) == {
        regs[0].pk: DepositStatus.PAID, regs[1].pk: DepositStatus.INSUFFICIENT, regs[2].pk: DepositStatus.NONE}
