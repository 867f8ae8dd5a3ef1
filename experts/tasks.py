"""Celery tasks of the expert app. Thin: the work is in experts/services/notifications.py."""

from __future__ import annotations

from celery import shared_task

from experts.services.notifications import notification_send, notifications_due


@shared_task(name="experts.tasks.notifications_send", ignore_result=True)
def notifications_send(ids: list[int]) -> int:
    for pk in ids:
        notification_send(notification_id=pk)
    return len(ids)


@shared_task(name="experts.tasks.sweep_notifications", ignore_result=True)
def sweep_notifications() -> int:
    """Beat task: send queued notifications whose task was lost or whose attempt failed."""
    return notifications_send(notifications_due())
