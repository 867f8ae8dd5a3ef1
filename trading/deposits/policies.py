"""Who may see and do what with deposits (accounts.policy rules; imported by trading/apps.py).

Sealing (docs/deposits.md): before the bid deadline, who has paid is visible to the
paying bidder itself and to supervisors only (the bank reports by HMAC and needs no
user). After the deadline the tender's agent and tenderer, the platform administrator
and the tender's registered bidders (the opening room shows each bid's deposit status)
see the deposit list as well.
"""

from __future__ import annotations

from accounts.policy import has_role, rule, same_org
from accounts.roles import Role
from trading.deposits.sealing import deposits_sealed
from trading.policies import is_bidder, is_party, is_supervisor


def is_platform_admin(user) -> bool:
    return has_role(user, Role.PLATFORM_ADMIN)


def _registered_in(user, tender) -> bool:
    org_id = getattr(user, "organisation_id", None)
    return bool(org_id) and is_bidder(user) and tender.registrations.filter(bidder_id=org_id).exists()


@rule("deposit.view_account")
def view_account(user, account) -> bool:
    if same_org(user, account.bidder_id) and is_bidder(user):
        return True
    if is_supervisor(user):
        return True
    if deposits_sealed(account.tender):
        return False
    return is_party(user, account.tender) or is_platform_admin(user) or _registered_in(user, account.tender)


@rule("deposit.view_list")
def view_list(user, tender) -> bool:
    """The deposit status of every registration of a tender (the opening room's column)."""
    if is_supervisor(user):
        return True
    if deposits_sealed(tender):
        return False
    return is_party(user, tender) or is_platform_admin(user) or _registered_in(user, tender)


@rule("deposit.submit_guarantee")
def submit_guarantee(user, account) -> bool:
    return is_bidder(user) and same_org(user, account.bidder_id)


@rule("deposit.bidder")
def bidder_workspace(user, _obj=None) -> bool:
    return is_bidder(user)


@rule("deposit.signed_in")
def signed_in(user, _obj=None) -> bool:
    """Pages whose content the other rules decide (e.g. a tender's deposit list)."""
    return bool(getattr(user, "is_authenticated", False))


@rule("deposit.admin")
def admin(user, _obj=None) -> bool:
    """Suspense list, statement import and reconciliation, refund export, trusted issuers."""
    return is_platform_admin(user)


@rule("deposit.supervise")
def supervise(user, _obj=None) -> bool:
    return is_supervisor(user)
