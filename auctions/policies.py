"""Object-level rules of the auctions app (accounts.policy registry).

Bidder numbers: during a trade nobody but supervisors can map numbers to names
("auction.view_numbers"); the agent sees applications (names) without numbers, a buyer sees its
own number only, the room shows numbers only.
"""

from __future__ import annotations

from accounts.policy import has_role, public, rule, same_org
from accounts.roles import Role
from auctions.models import DECIDED_STATUSES, TradeStatus


def _is_agent(user, trade) -> bool:
    return has_role(user, Role.AGENT) and same_org(user, trade.agent_id)


def _is_transferor(user, trade) -> bool:
    return same_org(user, trade.transferor_id)


@rule("auction.create")
def create(user, _obj) -> bool:
    return has_role(user, Role.AGENT) and bool(user.organisation_id)


@rule("auction.manage")
def manage(user, trade) -> bool:
    return _is_agent(user, trade)


@rule("auction.review")
def review(user, trade) -> bool:
    return _is_agent(user, trade)


@rule("auction.seal_reserve")
def seal_reserve(user, trade) -> bool:
    return _is_transferor(user, trade)


@rule("auction.apply")
def apply(user, trade) -> bool:
    return (has_role(user, Role.BIDDER) and bool(user.organisation_id)
            and user.organisation_id not in (trade.agent_id, trade.transferor_id))


@rule("auction.bid_as")
def bid_as(user, buyer) -> bool:
    return has_role(user, Role.BIDDER) and same_org(user, buyer.organisation_id)


@rule("auction.view")
@public
def view(user, trade) -> bool:
    if trade.status != TradeStatus.DRAFT:
        return True
    return bool(user) and (_is_agent(user, trade) or _is_transferor(user, trade) or has_role(user, Role.SUPERVISOR))


@rule("auction.room")
def room(user, trade) -> bool:
    if trade.status == TradeStatus.DRAFT:
        return False
    if has_role(user, Role.SUPERVISOR) or _is_agent(user, trade) or _is_transferor(user, trade):
        return True
    return trade.buyers.filter(organisation_id=user.organisation_id).exists() if user.organisation_id else False


@rule("auction.view_buyers")
def view_buyers(user, trade) -> bool:
    return _is_agent(user, trade) or has_role(user, Role.SUPERVISOR)


@rule("auction.view_numbers")
def view_numbers(user, trade) -> bool:
    """Number → name: supervisors always; everyone who may see buyers once the trade is decided."""
    if has_role(user, Role.SUPERVISOR):
        return True
    return trade.status in DECIDED_STATUSES and _is_agent(user, trade)


@rule("auction.supervise")
def supervise(user, _obj) -> bool:
    return has_role(user, Role.SUPERVISOR)


@rule("auction.release_share")
def release_share(user, _obj) -> bool:
    return has_role(user, Role.CUSTODIAN)


@rule("auction.confirmation")
def confirmation(user, trade) -> bool:
    conf = getattr(trade, "confirmation", None)
    return (_is_agent(user, trade) or _is_transferor(user, trade) or has_role(user, Role.SUPERVISOR)
            or (conf is not None and same_org(user, conf.buyer.organisation_id)))
