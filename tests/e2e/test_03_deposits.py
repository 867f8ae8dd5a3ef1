"""Deposits: each bidder reads its payment instructions on its deposit page; the bank pays and
reports each transfer to the platform's webhook exactly as a bank does (HMAC-signed POST,
docs/deposits.md); each bidder then sees "paid" on its page. A forged notification is refused.
"""

import time
from datetime import datetime

import pytest

from tests.e2e import flows
from tests.e2e.test_02_tender import BIDDERS

pytestmark = pytest.mark.e2e


def test_bank_reports_the_deposits_and_bidders_see_them_paid(users, story, e2e_server):
    story.need("tender_id", "registrations")
    pages = {name: users.page(name, locale="en") for name in BIDDERS}
    paid = {}
    for n, (name, page) in enumerate(pages.items(), 1):
        flows.bidder_deposit_page(page, story.tender_code)
        assert page.locator("h1 ~ p .badge").first.inner_text().strip() == "Not paid"
        if n == 1:
            users.checkpoint(page, "50-bidder-deposit-instructions")
        pay = flows.deposit_instructions(page)
        body = {
            "kind": "arrival", "txn_id": f"E2E{story.tender_id}T{int(time.time())}N{n}",
            "virtual_account": pay["virtual_account"], "amount": pay["amount"], "currency": "CNY",
            "booked_at": datetime.now(flows.SHANGHAI).isoformat(timespec="seconds"),
            "counterparty": {"account_number": pay["payer_account"], "account_name": pay["payer_name"],
                             "bank": pay["payer_bank"]},
        }
        if n == 1:  # a forgery first: signed with another secret, refused, nothing booked
            status, answer = flows.bank_notify(e2e_server.url, "not-the-bank", body)
            assert status == 401 and answer["error"]["code"] == "bad_signature", answer
        status, answer = flows.bank_notify(e2e_server.url, e2e_server.bank_secret, body)
        assert status == 200, answer
        assert answer["result"] == "booked" and answer["status"] == "paid" and answer["valid"], answer
        paid[name] = pay["virtual_account"]

    for n, page in enumerate(pages.values(), 1):
        page.reload()
        assert page.locator("h1 ~ p .badge.ok").inner_text().strip() == "Paid (valid)"
        ledger = page.locator("#ledger-h ~ .table-wrap tbody tr")
        assert ledger.count() == 1 and ledger.locator(".badge.ok").count() == 1
        if n == 1:
            users.checkpoint(page, "51-bidder-deposit-paid")
    story.extra["deposits_paid"] = paid
