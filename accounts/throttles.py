"""The `login` throttle (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"], env LOGIN_THROTTLE_RATE):
attempts per client address, whatever the username, on the token endpoint, the login page and the
back-office login. It complements django-axes, which locks a (username, address) pair."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import SimpleRateThrottle

from accounts.lockout import lockout_response
from config.clientip import client_ip

LOGIN_THROTTLED_MESSAGE = "Too many login attempts from this address; try again later."


class ClientIpThrottleMixin:
    """Every throttle keys on config.clientip (never on a forgeable X-Forwarded-For)."""

    def get_ident(self, request) -> str:
        return client_ip(request) or "unknown"


class LoginThrottle(ClientIpThrottleMixin, SimpleRateThrottle):
    scope = "login"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def login_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a page login view: a POST over the `login` rate gets the lock-out response (429)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            throttle = LoginThrottle()
            if not throttle.allow_request(request, None):
                response = lockout_response(request, message=LOGIN_THROTTLED_MESSAGE)
                wait = throttle.wait()
                if wait is not None:
                    response["Retry-After"] = str(max(1, int(wait)))
                return response
        return view(request, *args, **kwargs)

    return wrapped
