"""Calls to drawn experts and their answers: queued notifications, sending, inbound replies.

A call (`call_experts`) sets the seat's time limit, queues one Notification per channel and
schedules the `expert_confirmation_timeout` step; the messages are sent after commit by the Celery
task `experts.tasks.notifications_send` (and retried by the `experts.tasks.sweep_notifications`
beat task). Replies come back by the signed links (bidding_ui pages), the expert's inbox, or the
gateway's inbound webhook (`experts.services.replies.reply_receive`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from experts import rules
from experts.models import (
    Assignment,
    AssignmentStatus,
    Channel,
    Draw,
    Expert,
    Notification,
    NotificationStatus,
)
from experts.notify.base import Message, NotConfigured, backend_for, channels, public_base_url
from experts.notify.links import response_url
from experts.tasks import notifications_send
from trading import clock
from trading.rules import room_acceleration
from trading.services.scheduling import step_schedule

log = logging.getLogger(__name__)
TIMEOUT_STEP = "expert_confirmation_timeout"
MAX_ATTEMPTS = 3

def confirmation_window() -> timedelta:
    return timedelta(minutes=rules.confirmation_minutes()) / room_acceleration()


def call_experts(rows: list[Assignment], *, now: datetime, draw: Draw) -> None:
    """Call the experts of `rows` (saved assignments with their seat set): time limit, notifications, step."""
    if not rows:
        return
    respond_by = now + confirmation_window()
    for row in rows:
        row.status, row.notified_at, row.respond_by, row.updated_at = (
            AssignmentStatus.NOTIFIED, now, respond_by, now)
    Assignment.objects.bulk_update(rows, ["status", "seat", "drawn_as", "notified_at", "respond_by", "promoted_at",
                                          "updated_at"])
    emails = dict(Expert.objects.filter(pk__in=[r.expert_id for r in rows]).values_list("pk", "email"))
    notes = [Notification(assignment=row, channel=channel)
             for row in rows for channel in channels()
             if channel in Channel.values and (channel != Channel.EMAIL or emails.get(row.expert_id))]
    Notification.objects.bulk_create(notes)
    for row in rows:
        step_schedule(kind=TIMEOUT_STEP, subject=f"experts.assignment:{row.pk}", due_at=respond_by,
                      tender=draw.tender, lot=draw.lot)
    ids = [n.pk for n in notes if n.pk is not None]
    if ids:
        transaction.on_commit(lambda: enqueue_sends(ids))


def enqueue_sends(ids: list[int]) -> None:
    try:
        notifications_send.delay(ids)
    except Exception:  # the beat sweep sends what is still queued
        log.warning("could not enqueue notifications %s; the sweep will send them", ids, exc_info=True)


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def build_message(notification: Notification) -> Message:
    assignment = notification.assignment
    draw, expert = assignment.draw, assignment.expert
    tender, lot = draw.tender, draw.lot
    place = _("remote evaluation") if draw.remote else draw.place
    accept, decline = response_url(assignment, "accept"), response_url(assignment, "decline")
    code = assignment.reply_code
    head = _("Invitation to evaluate: %(code)s lot %(lot)s, %(start)s to %(end)s, %(place)s.") % {
        "code": tender.code, "lot": lot.number, "start": _local(draw.evaluation_start),
        "end": _local(draw.evaluation_end), "place": place}
    limit = _local(assignment.respond_by)
    if notification.channel == Channel.VOICE:
        text = head + " " + _("Press 1 to accept or 2 to decline before %(limit)s.") % {"limit": limit}
    elif notification.channel == Channel.SMS:
        text = head + " " + _("Reply \"1 %(code)s\" to accept or \"2 %(code)s\" to decline before %(limit)s, "
                              "or open %(accept)s") % {"code": code, "limit": limit, "accept": accept}
    else:
        text = (head + "\n\n" + _("Please answer before %(limit)s.") % {"limit": limit} + "\n\n"
                + _("Accept: %(url)s") % {"url": accept} + "\n" + _("Decline: %(url)s") % {"url": decline} + "\n\n"
                + _("The names of committee members are confidential until the result is decided "
                    "(招标投标法 Art 37); do not disclose this invitation."))
    to = expert.email if notification.channel == Channel.EMAIL else expert.phone
    return Message(id=str(notification.pk), channel=notification.channel, to=to,
                   subject=_("Expert evaluation invitation %(code)s") % {"code": tender.code}, text=text,
                   ref=assignment.response_nonce, reply_code=code, respond_by=assignment.respond_by,
                   accept_url=accept, decline_url=decline,
                   reply_url=public_base_url() + "/api/v1/experts/gateway/inbound")


def notification_send(*, notification_id: int) -> Notification:
    """Send one queued notification (outside any transaction: the HTTP call is not held in one)."""
    note = (Notification.objects.select_related("assignment__expert", "assignment__draw__tender",
                                                "assignment__draw__lot").get(pk=notification_id))
    if note.status != NotificationStatus.QUEUED:
        return note
    status, error, external = NotificationStatus.SENT, "", ""
    if note.assignment.status != AssignmentStatus.NOTIFIED:
        status, error = NotificationStatus.SKIPPED, "the call is no longer open"
    else:
        try:
            external = backend_for(note.channel).send(build_message(note)).external_id
        except NotConfigured as exc:
            status, error = NotificationStatus.SKIPPED, str(exc)
        except Exception as exc:
            log.warning("notification %s (%s) failed: %s", note.pk, note.channel, exc)
            status, error = NotificationStatus.FAILED, f"{type(exc).__name__}: {exc}"
    return _record_send(note.pk, status, error, external)


@transaction.atomic
def _record_send(pk: int, status: str, error: str, external: str) -> Notification:
    note = Notification.objects.select_for_update().select_related("assignment__draw").get(pk=pk)
    if note.status != NotificationStatus.QUEUED:
        return note
    note.attempts += 1
    final = status != NotificationStatus.FAILED or note.attempts >= MAX_ATTEMPTS
    note.status = status if final else NotificationStatus.QUEUED
    note.error, note.external_id = error[:500], external
    if status == NotificationStatus.SENT:
        note.sent_at = clock.now()
    note.save(update_fields=["status", "attempts", "error", "external_id", "sent_at"])
    draw = note.assignment.draw
    audit_record(actor="system", action=f"expert_notification.{status}", obj=note, data={
        "tender": draw.tender_id, "lot": draw.lot_id, "draw": draw.pk, "assignment": note.assignment_id,
        "channel": note.channel, "attempts": note.attempts, "final": final, "error": note.error})
    return note


def notifications_due(*, older_than: timedelta = timedelta(seconds=10)) -> list[int]:
    """Queued notifications of open calls not sent yet (lost task, failed attempt)."""
    return list(Notification.objects.filter(status=NotificationStatus.QUEUED,
                                            created_at__lte=clock.now() - older_than,
                                            assignment__status=AssignmentStatus.NOTIFIED)
                .values_list("pk", flat=True)[:200])
