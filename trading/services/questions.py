"""Questions and answers (澄清问题). The author of a question is never shown to the agent,
the tenderer or other bidders; its audit event carries identity hashes only."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.sealed import sealed_record
from audit.services import audit_record
from config.errors import DomainError, StateConflict
from trading import clock
from trading.models import Question, Tender, TenderStatus
from trading.services.deadlines import assert_before_deadline
from trading.services.tender_status import lock_tender
from trading.visibility import identity_hash, text_hash

MAX_TEXT = 5000


def _clean(text: str, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(_("The text is required."), fields={field: ["required"]})
    if len(text) > MAX_TEXT:
        raise DomainError(
            _("At most %(n)s characters.") % {"n": MAX_TEXT}, fields={field: [f"at most {MAX_TEXT} characters"]}
        )
    return text


def _require_open(tender: Tender) -> None:
    if tender.status not in (TenderStatus.PUBLISHED, TenderStatus.SUSPENDED) or tender.suspended_from not in (
        "",
        TenderStatus.PUBLISHED,
    ):
        raise StateConflict(
            _("Tender %(code)s is %(status)s: questions are closed.")
            % {"code": tender.code, "status": tender.get_status_display()},
            code="not_open",
        )


@transaction.atomic
def question_ask(*, actor, tender: Tender, text: str) -> Question:
    authorize(actor, "question.ask", tender)
    lock_tender(tender)
    _require_open(tender)
    assert_before_deadline(tender, what=_("Asking a question"))
    text = _clean(text, "text")
    question = Question.objects.create(
        tender=tender, asked_by_org_id=actor.organisation_id, asked_by=actor, text=text, asked_at=clock.now()
    )
    sealed_record(
        tender=tender,
        actor="system",
        action="question.asked",
        obj=question,
        data={
            "tender": tender.pk,
            "question": question.pk,
            "text_sha256": text_hash(text),
            "asker_hash": identity_hash(tender, "org", actor.organisation_id),
            "actor_hash": identity_hash(tender, "user", actor.pk),
        },
    )
    return question


@transaction.atomic
def question_answer(*, actor, question: Question, answer: str) -> Question:
    """Answer and publish to everyone (without the asker's identity). Answers are final."""
    tender = question.tender
    authorize(actor, "tender.manage", tender)
    lock_tender(tender)
    _require_open(tender)
    question = Question.objects.select_for_update().get(pk=question.pk)
    if question.answered_at is not None:
        raise StateConflict(
            _("This question is already answered; publish a clarification to change the answer."),
            code="already_answered",
        )
    question.answer = _clean(answer, "answer")
    question.answered_by, question.answered_at, question.published = actor, clock.now(), True
    question.save(update_fields=["answer", "answered_by", "answered_at", "published"])
    audit_record(
        actor=actor,
        action="question.answered",
        obj=question,
        data={
            "tender": tender.pk,
            "question": question.pk,
            "text_sha256": text_hash(question.text),
            "answer_sha256": text_hash(question.answer),
        },
    )
    return question
