"""Hook: deposit instructions returned by registration (投标保证金).

`registration_create` returns `deposit_instructions(registration)`: how much to
pay, in which currency, to which account, by when, and from which account
(cash deposits must come from the bidder's basic account, 实施条例 Art 26).

The payee is the platform's collection account, `settings.PLATFORM_COLLECTION_ACCOUNT`
(a dict with bank, account_name, account_number; a demo default below until the
deployment sets it). The Deposits issue gives each (bidder, lot) its own virtual
sub-account; it plugs in with

    from trading.services.deposit_hook import set_virtual_account_provider
    set_virtual_account_provider(lambda registration: {"bank": ..., "account_number": ...})

Until then `"virtual_account"` is None and bidders pay to the collection account
quoting `reference`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from trading.rules import DEPOSIT_FROM_BASIC_ACCOUNT

DEFAULT_COLLECTION_ACCOUNT = {
    "bank": "Demo Bank",
    "account_name": "Public Resource Trading Center deposit collection",
    "account_number": "0000000000000000",
}

VirtualAccountProvider = Callable[[Any], dict | None]
_provider: VirtualAccountProvider | None = None


def set_virtual_account_provider(provider: VirtualAccountProvider | None) -> None:
    """Install (or with None remove) the function that returns a registration's virtual sub-account."""
    global _provider
    _provider = provider


def collection_account() -> dict:
    return dict(getattr(settings, "PLATFORM_COLLECTION_ACCOUNT", None) or DEFAULT_COLLECTION_ACCOUNT)


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
        "virtual_account": _provider(registration) if _provider is not None else None,
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
