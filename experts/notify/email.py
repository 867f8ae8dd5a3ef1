"""Email calls through Django's email backend (the accept/decline links are in the text)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from experts.notify.base import Backend, Message, NotConfigured, SendResult


class EmailBackend(Backend):
    channel = "email"

    def send(self, message: Message) -> SendResult:
        if not message.to:
            raise NotConfigured("the expert has no email address")
        send_mail(message.subject, message.text, getattr(settings, "DEFAULT_FROM_EMAIL", None), [message.to],
                  fail_silently=False)
        return SendResult()
