"""Remembers who is acting in this request, for audit events written by signals
(role changes, admin edits) that receive no user of their own."""

from __future__ import annotations

import contextvars

from config.clientip import client_ip

_request: contextvars.ContextVar = contextvars.ContextVar("audit_request", default=None)


def current_actor():
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else "system"


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def current_client_ip() -> str | None:
    """The client address of the request being served, as config.clientip resolves it (trusted
    proxies only; never a forged X-Forwarded-For), or None outside a request."""
    return client_ip(_request.get())
