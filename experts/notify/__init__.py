"""Calling experts: a backend interface with an SMS/voice webhook gateway and email (docs/experts.md)."""

from experts.notify.base import Backend, Message, NotConfigured, SendResult, backend_for

__all__ = ["Backend", "Message", "NotConfigured", "SendResult", "backend_for"]
