"""Celery tasks of the expert app. Thin: the work is in experts/services/notifications.py.

The services import these tasks at module top; a task imports its service inside its body
(so the two modules do not import each other at load time).
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="experts.tasks.notifications_send", ignore_result=True)
def notifications_send(ids: list[int]) -> int:
    from experts.services.notifications import notification_send

    for pk in ids:
        notification_send(notification_id=pk)
    return len(ids)


@shared_task(name="experts.tasks.sweep_notifications", ignore_result=True)
def sweep_notifications() -> int:
    """Beat task: send queued notifications whose task was lost or whose attempt failed."""
    from experts.services.notifications import notifications_due

    return notifications_send(notifications_due())
