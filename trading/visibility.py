"""The one visibility layer: what each role sees of a tender, by status (ProZorro style).

The API serializers and the page views never decide sealing themselves: they
ask this module, which asks the policy rules in trading/policies.py.

Sealing matrix (docs/tendering.md has the full table):

| fact                         | public | other bidder | own bidder | agent/tenderer        | supervisor |
|------------------------------|--------|--------------|------------|-----------------------|------------|
| registration list / count    | never  | never        | own only   | after the deadline    | always     |
| download list / count        | never  | never        | never      | after the deadline    | always     |
| question author              | never  | never        | own only   | never                 | always     |
| objection author             | never  | never        | own only   | after the deadline    | always     |
| unanswered questions         | no     | no           | own only   | yes (no author)       | yes        |

Audit events must not leak these facts to later readers of the log either: while a
list is sealed its events are written as unlinkable `sealed.committed` commitments
(audit/sealed.py, docs/audit.md "Sealed events"); the events they stand for carry
`identity_hash(...)` instead of the organisation or user id, and their actor is
"system". The hash is `sha256("<kind>:<id>:<tender.seal_salt>")` (hex); the salt and
the openings are revealed in the `tender.status_changed` event to `bidding_closed`,
after which anyone holding the log can check the commitments and link the hashes to
organisations and users.
"""

from __future__ import annotations

import hashlib

from django.db.models import Q, QuerySet

from accounts.policy import can
from trading.models import (
    DocumentDownload,
    Objection,
    Question,
    Registration,
    RegistrationStatus,
    Tender,
    TenderDocument,
)
from trading.policies import is_party, is_supervisor


def identity_hash(tender: Tender, kind: str, pk: int) -> str:
    """Hash standing for an organisation ("org") or user ("user") in sealed audit events."""
    return hashlib.sha256(f"{kind}:{pk}:{tender.seal_salt}".encode()).hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- registrations ------------------------------------------------------------------


def registrations_visible(user, tender: Tender) -> bool:
    """May `user` see the whole registration list (and its count)?"""
    return can(user, "tender.view_registrations", tender)


def registrations_for(user, tender: Tender) -> QuerySet[Registration]:
    """The registrations `user` may see: all, their own organisation's, or none."""
    qs = Registration.objects.filter(tender=tender).select_related("lot", "bidder", "registered_by")
    if registrations_visible(user, tender):
        return qs
    org_id = getattr(user, "organisation_id", None)
    return qs.filter(bidder_id=org_id) if org_id else qs.none()


def registration_count(user, tender: Tender) -> int | None:
    if not registrations_visible(user, tender):
        return None
    return Registration.objects.filter(tender=tender, status=RegistrationStatus.REGISTERED).count()


# --- downloads -------------------------------------------------------------------------


def downloads_visible(user, tender: Tender) -> bool:
    return can(user, "tender.view_downloads", tender)


def downloads_for(user, tender: Tender) -> QuerySet[DocumentDownload]:
    qs = DocumentDownload.objects.filter(tender=tender).select_related("document", "organisation", "user")
    return qs if downloads_visible(user, tender) else qs.none()


def download_count(user, tender: Tender, document: TenderDocument | None = None) -> int | None:
    if not downloads_visible(user, tender):
        return None
    qs = DocumentDownload.objects.filter(tender=tender)
    if document is not None:
        qs = qs.filter(document=document)
    return qs.count()


# --- questions ---------------------------------------------------------------------------


def question_author_visible(user, question: Question) -> bool:
    return can(user, "question.view_author", question)


def questions_for(user, tender: Tender) -> QuerySet[Question]:
    """Published answers for everyone; every question for the agent, tenderer and supervisors;
    a bidder also sees its own organisation's unanswered questions."""
    qs = Question.objects.filter(tender=tender).select_related("asked_by_org", "asked_by")
    if is_party(user, tender) or is_supervisor(user):
        return qs
    org_id = getattr(user, "organisation_id", None)
    if org_id:
        return qs.filter(Q(published=True) | Q(asked_by_org_id=org_id))
    return qs.filter(published=True)


def question_author(user, question: Question) -> dict | None:
    if not question_author_visible(user, question):
        return None
    return {
        "organisation": question.asked_by_org.name,
        "organisation_id": question.asked_by_org_id,
        "user": question.asked_by.username,
    }


# --- objections --------------------------------------------------------------------------


def objection_author_visible(user, objection: Objection) -> bool:
    return can(user, "objection.view_author", objection)


def objections_for(user, tender: Tender) -> QuerySet[Objection]:
    """The tender's side and supervisors see every objection; a bidder its own; the public none."""
    qs = Objection.objects.filter(tender=tender).select_related("raised_by_org", "raised_by", "tender")
    if is_party(user, tender) or is_supervisor(user):
        return qs
    org_id = getattr(user, "organisation_id", None)
    return qs.filter(raised_by_org_id=org_id) if org_id else qs.none()


def objection_author(user, objection: Objection) -> dict | None:
    if not objection_author_visible(user, objection):
        return None
    return {
        "organisation": objection.raised_by_org.name,
        "organisation_id": objection.raised_by_org_id,
        "user": objection.raised_by.username,
    }


# --- the tender as a whole ------------------------------------------------------------------


def tender_counts(user, tender: Tender) -> dict:
    """Role- and status-dependent numbers shown with a tender; None where sealed."""
    return {
        "registration_count": registration_count(user, tender),
        "download_count": download_count(user, tender),
        "sealed": tender.is_sealed,
    }
