"""Cache of the anonymous rendering of the public pages everyone reads at a deadline.

`@public_page` on the notices list, the results list, a notice and a tender page
(bidding_ui/views_tendering.py). Rules (docs/operations.md, "Public page cache"):

* Only a GET/HEAD from a visitor with no session cookie and no messages cookie
  (so certainly anonymous, with nothing personal to show) is answered from or stored
  in the cache; every other request renders normally. A logged-in user's page, which
  may show role-dependent links and forms, is never stored and never served from it.
* The key is the generation, the language of the response (`request.LANGUAGE_CODE`)
  and the full path with its query string. Only 200 responses without cookies are stored.
* The page's CSRF token (the language switch form) is stored as a placeholder and
  replaced by the visitor's own token when served, so a cached page never hands one
  visitor's token to another.
* Invalidation: saving or deleting a Tender, Lot, Notice, TenderDocument or Question
  bumps the generation at once and again after the transaction commits (so a page
  stored from the old data while the transaction was open is dropped too); all
  stored pages are then unreachable. A page lives at most
  `PUBLIC_PAGE_CACHE_SECONDS` and never past the next time boundary the view names
  (`cache_until`, e.g. a tender page's bid deadline, where sealed counts open).
* The cache is Django's default cache: Redis when REDIS_URL is set (shared by every
  web process and host), else the local file cache. A cache error is logged and the
  page is rendered normally.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import get_token

from trading import clock

logger = logging.getLogger(__name__)

GENERATION_KEY = "publicpage:generation"
CSRF_PLACEHOLDER = "\x00ptrade-csrf\x00"
_TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")
_UNTIL = "_public_cache_until"


def cache_until(response: HttpResponse, *moments: datetime | None) -> HttpResponse:
    """Tell `@public_page` not to keep this rendering past the earliest future moment given."""
    now = clock.now()
    future = [m for m in moments if m is not None and m > now]
    if future:
        setattr(response, _UNTIL, min(future))
    return response


def _generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY) or 1
    return int(generation)


def invalidate() -> None:
    """Make every stored public page unreachable (called on commit of a change they show)."""
    try:
        if cache.add(GENERATION_KEY, 2, timeout=None):
            return
        cache.incr(GENERATION_KEY)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the committed change
        logger.warning("public page cache: invalidation failed", exc_info=True)


def _cacheable_request(request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in cookies:
        return False
    if "messages" in cookies:
        return False
    return not request.user.is_authenticated


def _key(request, generation: int) -> str:
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return f"publicpage:{generation}:{getattr(request, 'LANGUAGE_CODE', settings.LANGUAGE_CODE)}:{path}"


def _strip_csrf(request, content: str) -> str:
    """Replace every occurrence of this request's masked CSRF token by the placeholder."""
    from django.middleware.csrf import _unmask_cipher_token

    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        return content

    def swap(match: re.Match) -> str:
        token = match.group(0)
        try:
            return CSRF_PLACEHOLDER if _unmask_cipher_token(token) == secret else token
        except Exception:  # noqa: BLE001 - not a token after all
            return token

    return _TOKEN.sub(swap, content)


def _ttl(response) -> int:
    ttl = int(getattr(settings, "PUBLIC_PAGE_CACHE_SECONDS", 30))
    until = getattr(response, _UNTIL, None)
    if until is not None:
        ttl = min(ttl, int((until - clock.now()).total_seconds()))
    return ttl


def public_page(view):
    """Serve anonymous GETs of a public page from the cache; store fresh anonymous renderings."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if int(getattr(settings, "PUBLIC_PAGE_CACHE_SECONDS", 30)) <= 0 or not _cacheable_request(request):
            return view(request, *args, **kwargs)
        try:
            key = _key(request, _generation())
            stored = cache.get(key)
        except Exception:  # noqa: BLE001 - the cache is an optimisation
            logger.warning("public page cache: read failed", exc_info=True)
            return view(request, *args, **kwargs)
        if stored is not None:
            content_type, body = stored
            response = HttpResponse(body.replace(CSRF_PLACEHOLDER, get_token(request)), content_type=content_type)
            response["X-Public-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if (request.method == "GET" and response.status_code == 200 and not response.streaming
                and not response.cookies):
            ttl = _ttl(response)
            if ttl > 0:
                charset = response.charset or "utf-8"
                body = _strip_csrf(request, response.content.decode(charset))
                try:
                    cache.set(key, (response["Content-Type"], body), timeout=ttl)
                except Exception:  # noqa: BLE001
                    logger.warning("public page cache: write failed", exc_info=True)
            response["X-Public-Cache"] = "miss"
        return response

    return wrapper


def _changed(sender, **kwargs) -> None:
    # Before and after the commit: the first bump stops serving pages stored before the change;
    # the second drops any page another request stored from the old data while this transaction
    # was still open.
    invalidate()
    transaction.on_commit(invalidate)


def connect_invalidation() -> None:
    """Bump the generation on commit of any change to what the public pages show."""
    from trading.models import Lot, Notice, Question, Tender, TenderDocument

    for model in (Tender, Lot, Notice, TenderDocument, Question):
        uid = f"public_page_cache:{model.__name__}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}:save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}:delete")
