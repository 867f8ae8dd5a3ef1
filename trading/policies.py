"""Object-level permission rules of the trading app (accounts.policy registry).

Sealing decisions (who sees registrations, downloads, question and objection
authors) are rules here too; trading/visibility.py is the one layer that
applies them to what the API and the pages render.
"""

from __future__ import annotations

from accounts.policy import has_role, public, rule, same_org
from accounts.roles import Role
from trading.models import TenderStatus


def is_agent_of(user, tender) -> bool:
    return has_role(user, Role.AGENT) and same_org(user, tender.agent_id)


def is_tenderer_of(user, tender) -> bool:
    return has_role(user, Role.TENDERER) and same_org(user, tender.tenderer_id)


def is_party(user, tender) -> bool:
    """The tender's own side: its agent or its tenderer."""
    return is_agent_of(user, tender) or is_tenderer_of(user, tender)


def is_supervisor(user) -> bool:
    return has_role(user, Role.SUPERVISOR)


def is_bidder(user) -> bool:
    return has_role(user, Role.BIDDER) and bool(getattr(user, "organisation_id", None))


@rule("tender.create")
def tender_create(user, _obj=None) -> bool:
    return has_role(user, Role.AGENT) and bool(user.organisation_id)


@rule("tender.view")
@public
def tender_view(user, tender) -> bool:
    if tender.status != TenderStatus.DRAFT:
        return True  # 政务公开: published tenders are open to everyone
    return is_party(user, tender) or is_supervisor(user) or has_role(user, Role.PLATFORM_ADMIN)


@rule("tender.edit")
def tender_edit(user, tender) -> bool:
    return is_agent_of(user, tender)


@rule("tender.manage")
def tender_manage(user, tender) -> bool:
    """Publish, documents, amendments, answers, result notices: the agent's job."""
    return is_agent_of(user, tender)


@rule("tender.reply_objection")
def tender_reply_objection(user, tender) -> bool:
    # The tenderer answers objections (实施条例 Art 22); its agent does so on its behalf.
    return is_party(user, tender)


@rule("tender.supervise")
def tender_supervise(user, _tender=None) -> bool:
    return is_supervisor(user)


@rule("tender.archive")
def tender_archive(user, tender) -> bool:
    """The archive of a finished tender (trading/retention.py): its agent and the supervisors."""
    return is_agent_of(user, tender) or is_supervisor(user)


@rule("tender.view_registrations")
def tender_view_registrations(user, tender) -> bool:
    # Sealed until the deadline (电子招标投标办法 Art 21); supervisors watch live.
    return is_supervisor(user) or (is_party(user, tender) and not tender.is_sealed)


@rule("tender.view_downloads")
def tender_view_downloads(user, tender) -> bool:
    return is_supervisor(user) or (is_party(user, tender) and not tender.is_sealed)


@rule("question.view_author")
def question_view_author(user, question) -> bool:
    # Never the agent, the tenderer or other bidders; the asker's own organisation and supervisors.
    return is_supervisor(user) or same_org(user, question.asked_by_org_id)


@rule("objection.view_author")
def objection_view_author(user, objection) -> bool:
    # An objector is a potential bidder: sealed from the tender's side until the deadline.
    return (
        is_supervisor(user)
        or same_org(user, objection.raised_by_org_id)
        or (is_party(user, objection.tender) and not objection.tender.is_sealed)
    )


@rule("registration.create")
def registration_create(user, _lot=None) -> bool:
    return is_bidder(user)


@rule("registration.view")
def registration_view(user, registration) -> bool:
    """One registration with its deposit instructions: the bidder itself and supervisors. The tender's
    side sees the list (without payment details) after the deadline, through tender.view_registrations."""
    return same_org(user, registration.bidder_id) or is_supervisor(user)


@rule("registration.withdraw")
def registration_withdraw(user, registration) -> bool:
    return is_bidder(user) and same_org(user, registration.bidder_id)


@rule("question.ask")
def question_ask(user, _tender=None) -> bool:
    return is_bidder(user)


@rule("objection.raise")
def objection_raise(user, _tender=None) -> bool:
    return is_bidder(user)


@rule("document.download")
@public
def document_download(user, document) -> bool:
    # No registration or login needed (电子招标投标办法 Art 20).
    return tender_view(user, document.tender)


@rule("workspace.agent")
def workspace_agent(user, _obj=None) -> bool:
    return (has_role(user, Role.AGENT) or has_role(user, Role.TENDERER)) and bool(user.organisation_id)


@rule("workspace.bidder")
def workspace_bidder(user, _obj=None) -> bool:
    return is_bidder(user)
