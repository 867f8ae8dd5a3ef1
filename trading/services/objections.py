"""Objections to the tender documents (异议, 招标投标法实施条例 Art 22).

Allowed until 10 days before the deadline (the procedure's number); the reply is
due within 3 days (government procurement: 7 working days); the tender is
suspended while any objection is open and resumes when the last one is answered.
If the reply is late, the objection shows as overdue to supervisors and a
`objection.reply_overdue` event is written once by the scheduled step; the bid
deadline does not fire while the tender is suspended (trading/steps.py).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.sealed import sealed_record
from audit.services import audit_record
from config.errors import RuleViolation, StateConflict
from trading import clock
from trading.models import Objection, ObjectionStatus, Tender, TenderStatus
from trading.rules import OBJECTION_SUSPENDS
from trading.services.questions import _clean
from trading.services.scheduling import step_schedule
from trading.services.tender_status import lock_tender, tender_transition
from trading.steps import OBJECTION_REPLY_DUE
from trading.visibility import identity_hash, text_hash


@transaction.atomic
def objection_raise(*, actor, tender: Tender, text: str) -> Objection:
    authorize(actor, "objection.raise", tender)
    lock_tender(tender)
    if tender.status not in (TenderStatus.PUBLISHED, TenderStatus.SUSPENDED) or tender.suspended_from not in (
        "",
        TenderStatus.PUBLISHED,
    ):
        raise StateConflict(
            _("Tender %(code)s is %(status)s: objections to the documents are closed.")
            % {"code": tender.code, "status": tender.get_status_display()},
            code="not_open",
        )
    now = clock.now()
    rule = tender.rules.objection_before_deadline
    cutoff = tender.objection_cutoff()
    if now > cutoff:
        raise RuleViolation(
            _(
                "Objections to the tender documents must be raised at least %(n)s before the bid deadline, "
                "that is by %(t)s (%(src)s)."
            )
            % {"n": rule.display(), "t": f"{timezone.localtime(cutoff):%Y-%m-%d %H:%M:%S %Z}", "src": rule.source},
            code="objection_too_late",
        )
    text = _clean(text, "text")
    reply_due = tender.rules.objection_reply.after(now)
    objection = Objection.objects.create(
        tender=tender,
        raised_by_org_id=actor.organisation_id,
        raised_by=actor,
        text=text,
        raised_at=now,
        reply_due_at=reply_due,
    )
    sealed_record(
        tender=tender,
        actor="system",
        action="objection.raised",
        obj=objection,
        data={
            "tender": tender.pk,
            "objection": objection.pk,
            "text_sha256": text_hash(text),
            "reply_due_at": reply_due,
            "raiser_hash": identity_hash(tender, "org", actor.organisation_id),
            "actor_hash": identity_hash(tender, "user", actor.pk),
        },
    )
    if tender.status == TenderStatus.PUBLISHED:
        tender_transition(
            actor="system",
            tender=tender,
            to=TenderStatus.SUSPENDED,
            reason=f"objection pending ({OBJECTION_SUSPENDS})",
            data={"objection": objection.pk},
        )
    step_schedule(
        kind=OBJECTION_REPLY_DUE, subject=f"trading.objection:{objection.pk}", due_at=reply_due, tender=tender
    )
    return objection


@transaction.atomic
def objection_reply(*, actor, objection: Objection, reply: str) -> Objection:
    tender = objection.tender
    authorize(actor, "tender.reply_objection", tender)
    lock_tender(tender)
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    if objection.status != ObjectionStatus.OPEN:
        raise StateConflict(_("This objection is already answered."), code="already_replied")
    now = clock.now()
    objection.reply = _clean(reply, "reply")
    objection.replied_by, objection.replied_at, objection.status = actor, now, ObjectionStatus.REPLIED
    objection.save(update_fields=["reply", "replied_by", "replied_at", "status"])
    audit_record(
        actor=actor,
        action="objection.replied",
        obj=objection,
        data={
            "tender": tender.pk,
            "objection": objection.pk,
            "reply_sha256": text_hash(objection.reply),
            "late": now > objection.reply_due_at,
        },
    )
    still_open = Objection.objects.filter(tender=tender, status=ObjectionStatus.OPEN).exists()
    if tender.status == TenderStatus.SUSPENDED and not still_open:
        tender_transition(
            actor=actor,
            tender=tender,
            to=tender.suspended_from,
            reason="objections answered",
            data={"objection": objection.pk},
        )
    return objection
