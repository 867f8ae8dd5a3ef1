"""Permission rules for sealed bids and the opening (accounts.policy registry).

Imported by trading/apps.py ready(). Room membership (who sees the room's events) is
not a rule here but an audience (trading/opening/room.py), so that snapshots and
pushed events are filtered by the same function.
"""

from __future__ import annotations

from accounts.policy import has_role, public, rule, same_org
from accounts.roles import Role
from trading.policies import is_agent_of, is_bidder, is_supervisor, tender_view


@rule("sbe1_key.register_organisation")
def key_register_organisation(user, _obj=None) -> bool:
    return is_bidder(user)


@rule("sbe1_key.register_custodian")
def key_register_custodian(user, _obj=None) -> bool:
    return has_role(user, Role.CUSTODIAN)


@rule("sbe1_key.revoke")
def key_revoke(user, key) -> bool:
    if key.user_id is not None:
        return key.user_id == user.pk
    return is_bidder(user) and same_org(user, key.organisation_id)


@rule("bid.submit")
def bid_submit(user, _lot=None) -> bool:
    return is_bidder(user)


@rule("bid.view")
def bid_view(user, bid) -> bool:
    """A bid's receipt and metadata: the bidder itself and supervisors (sealed from everyone else)."""
    return same_org(user, bid.bidder_id) or is_supervisor(user)


@rule("bid.withdraw")
def bid_withdraw(user, bid) -> bool:
    return is_bidder(user) and same_org(user, bid.bidder_id)


@rule("opening.view")
@public
def opening_view(user, tender) -> bool:
    # The room is open to everyone (政务公开); what each viewer sees is filtered by audience.

    return tender_view(user, tender)


@rule("opening.host")
def opening_host(user, tender) -> bool:
    """The tender agent hosts the opening (advance, mark for fallback, answer objections, close)."""
    return is_agent_of(user, tender)


@rule("opening.sign_in")
def opening_sign_in(user, tender) -> bool:
    return is_bidder(user) and tender.bids.filter(bidder_id=user.organisation_id, opening__isnull=False).exists()


@rule("opening.release_dek")
def opening_release_dek(user, bid) -> bool:
    return is_bidder(user) and same_org(user, bid.bidder_id)


@rule("opening.confirm")
def opening_confirm(user, tender) -> bool:
    return opening_sign_in(user, tender)


@rule("opening.raise_objection")
def opening_raise_objection(user, tender) -> bool:
    return opening_sign_in(user, tender)


@rule("opening.answer_objection")
def opening_answer_objection(user, tender) -> bool:
    return is_agent_of(user, tender)


@rule("opening.submit_share")
def opening_submit_share(user, key_share) -> bool:
    return has_role(user, Role.CUSTODIAN) and key_share.custodian_id == user.pk


@rule("opening.view_record")
@public
def opening_view_record(user, opening) -> bool:
    """The opening record: public once published; the tender's side and supervisors from closing on."""
    if opening.record_published_at is not None:
        return True
    return bool(opening.record_sha256) and (is_supervisor(user) or is_agent_of(user, opening.tender))
