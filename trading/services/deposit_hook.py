"""Hook: deposit instructions returned by registration (投标保证金).

`registration_create` returns `deposit_instructions(registration)`: how much to
pay, in which currency, to which account, by when, and from which account
(cash deposits must come from the bidder's basic account, 实施条例 Art 26).

The payee is the platform's collection account, `settings.PLATFORM_COLLECTION_ACCOUNT`
(a dict with bank, account_name, account_number; a demo default below until the
deployment sets it). Each (bidder, lot) pays into its own virtual sub-account under
it (trading/deposits/): `"virtual_account"` is opened on the first call (inside
`registration_create`'s transaction) by `virtual_account_for`.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from trading.deposits.services.accounts import deposit_account_open
from trading.deposits.vaccount import format_grouped
from trading.rules import DEPOSIT_FROM_BASIC_ACCOUNT

DEFAULT_COLLECTION_ACCOUNT = {
    "bank": "Demo Bank",
    "account_name": "Public Resource Trading Center deposit collection",
    "account_number": "0000000000000000",
}

def collection_account() -> dict:
    return dict(getattr(settings, "PLATFORM_COLLECTION_ACCOUNT", None) or DEFAULT_COLLECTION_ACCOUNT)


def virtual_account_for(registration) -> dict:
    """The registration's virtual sub-account (trading/deposits/), opened on first use."""
    account = deposit_account_open(registration=registration)
    parent = collection_account()
    return {
        "bank": parent.get("bank", ""),
        "account_name": parent.get("account_name", ""),
        "account_number": account.number,
        "account_number_display": format_grouped(account.number),
        "parent_account_number": parent.get("account_number", ""),
    }


def deposit_instructions(registration) -> dict:
    lot = registration.lot
    tender = lot.tender
    bidder = registration.bidder
    amount = lot.deposit_amount
    return {
        "required": amount > 0,
        "amount": amount,
        "currency": "CNY",
        "payee_account": collection_account(),
        "virtual_account": virtual_account_for(registration),
        "payer_account": {
            "bank": bidder.basic_account_bank,
            "account_name": bidder.basic_account_name,
            "account_number": bidder.basic_account_number,
        },
        "payer_rule": _("Cash deposits must come from the bidder's basic account (%(src)s).")
        % {"src": DEPOSIT_FROM_BASIC_ACCOUNT},
        "due_before": tender.bid_deadline,
        "reference": f"{tender.code}-{lot.number}-R{registration.pk}",
    }
