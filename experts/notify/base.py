"""The backend interface: `send(message) -> SendResult`, raising on failure.

Backends per channel come from `settings.EXPERTS_NOTIFY_BACKENDS` ({channel: dotted path}), default:
sms → experts.notify.gateway.SmsGatewayBackend, voice → experts.notify.gateway.VoiceGatewayBackend,
email → experts.notify.email.EmailBackend.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKENDS = {
    "sms": "experts.notify.gateway.SmsGatewayBackend",
    "voice": "experts.notify.gateway.VoiceGatewayBackend",
    "email": "experts.notify.email.EmailBackend",
}


class NotConfigured(Exception):
    """The channel is not set up on this installation (the notification is skipped, not failed)."""


@dataclass(frozen=True)
class Message:
    id: str                 # notification id, echoed by the gateway
    channel: str            # sms | voice | email
    to: str                 # phone number or email address
    subject: str
    text: str
    ref: str                # the call's reply reference (a voice gateway echoes it with the key pressed)
    reply_code: str         # short code the expert may add to an SMS reply
    respond_by: datetime
    accept_url: str
    decline_url: str
    reply_url: str          # where the gateway posts replies (inbound webhook)


@dataclass(frozen=True)
class SendResult:
    external_id: str = ""


class Backend(ABC):
    channel: str = ""

    @abstractmethod
    def send(self, message: Message) -> SendResult: ...


def channels() -> list[str]:
    configured = getattr(settings, "EXPERTS_NOTIFY_CHANNELS", None)
    if configured is None:
        configured = [c for c in os.environ.get("EXPERTS_NOTIFY_CHANNELS", "sms,email").split(",") if c.strip()]
    return [c.strip() for c in configured]


def backend_for(channel: str) -> Backend:
    paths = {**DEFAULT_BACKENDS, **(getattr(settings, "EXPERTS_NOTIFY_BACKENDS", None) or {})}
    if channel not in paths:
        raise NotConfigured(f"no backend for channel {channel!r}")
    return import_string(paths[channel])()


def public_base_url() -> str:
    return (getattr(settings, "EXPERTS_PUBLIC_BASE_URL", None)
            or os.environ.get("EXPERTS_PUBLIC_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")
