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
import time
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
TTL_HEADER = "X-Public-Cache-TTL"  # seconds the rendering may still be served (read by PublicPageASGI)


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
            content_type, body, expires = stored
            response = HttpResponse(body.replace(CSRF_PLACEHOLDER, get_token(request)), content_type=content_type)
            response["X-Public-Cache"] = "hit"
            response[TTL_HEADER] = str(max(0, int(expires - time.time())))
            return response
        response = view(request, *args, **kwargs)
        if (request.method == "GET" and response.status_code == 200 and not response.streaming
                and not response.cookies):
            ttl = _ttl(response)
            if ttl > 0:
                charset = response.charset or "utf-8"
                body = _strip_csrf(request, response.content.decode(charset))
                try:
                    cache.set(key, (response["Content-Type"], body, time.time() + ttl), timeout=ttl)
                except Exception:  # noqa: BLE001
                    logger.warning("public page cache: write failed", exc_info=True)
                response[TTL_HEADER] = str(ttl)
            response["X-Public-Cache"] = "miss"
        return response

    wrapper.public_page = True

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


# --- The same cache in front of Django (ASGI) ---------------------------------------------------


class _Visitor:
    """What `get_language_from_request` reads, without building a Django request."""

    def __init__(self, cookies: dict, accept_language: str) -> None:
        self.COOKIES = cookies
        self.META = {"HTTP_ACCEPT_LANGUAGE": accept_language}


def _cookies(header: str) -> dict:
    from django.http.cookie import parse_cookie

    return parse_cookie(header) if header else {}


def _csrf_cookie(secret: str) -> bytes:
    """The Set-Cookie header CsrfViewMiddleware would send for `secret` (same settings)."""
    response = HttpResponse()
    response.set_cookie(settings.CSRF_COOKIE_NAME, secret, max_age=settings.CSRF_COOKIE_AGE,
                        domain=settings.CSRF_COOKIE_DOMAIN, path=settings.CSRF_COOKIE_PATH,
                        secure=settings.CSRF_COOKIE_SECURE, httponly=settings.CSRF_COOKIE_HTTPONLY,
                        samesite=settings.CSRF_COOKIE_SAMESITE)
    return response.cookies[settings.CSRF_COOKIE_NAME].OutputString().encode("latin-1")


_SKIP_HEADERS = {b"set-cookie", b"content-length", b"x-public-cache", TTL_HEADER.lower().encode()}
_MAX_BODY = 2 * 1024 * 1024


class PublicPageASGI:
    """ASGI middleware in front of Django (config/asgi.py, before the load shedder): serves the stored
    anonymous rendering of a `@public_page` view without a thread, middleware or the database.

    Same rules as `@public_page`: only GET/HEAD without session, messages or Authorization; the
    language is chosen exactly as LocaleMiddleware does (`get_language_from_request`); the CSRF
    token is the visitor's own (its valid `csrftoken` cookie, or a new secret sent with
    Set-Cookie as CsrfViewMiddleware would). An entry is stored from a response that Django
    marked cacheable (`X-Public-Cache` + `X-Public-Cache-TTL`), with all its headers except
    Set-Cookie; it lives at most that TTL and dies with the generation. Because it runs before
    the shedder, cached pages are still served when Django is saturated.
    """

    def __init__(self, app) -> None:
        self.app = app

    def _cacheable(self, scope) -> tuple[str, str, dict] | None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            return None
        if int(getattr(settings, "PUBLIC_PAGE_CACHE_SECONDS", 30)) <= 0:
            return None
        from django.urls import Resolver404, get_resolver

        try:
            match = get_resolver().resolve(scope["path"])
        except Resolver404:
            return None
        if not getattr(match.func, "public_page", False):
            return None
        headers = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        if "authorization" in headers:
            return None
        cookies = _cookies(headers.get("cookie", ""))
        if settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
            return None
        from django.utils.translation import get_language_from_request

        language = get_language_from_request(_Visitor(cookies, headers.get("accept-language", "")))
        query = scope.get("query_string", b"").decode("latin-1")
        full_path = scope["path"] + (f"?{query}" if query else "")
        return language, full_path, cookies

    async def __call__(self, scope, receive, send) -> None:
        try:
            found = self._cacheable(scope)
        except Exception:  # noqa: BLE001 - never let the cache break a page
            logger.warning("public page cache (asgi): lookup failed", exc_info=True)
            found = None
        if found is None:
            await self.app(scope, receive, send)
            return
        from asgiref.sync import sync_to_async

        language, full_path, cookies = found
        path_hash = hashlib.sha256(full_path.encode()).hexdigest()
        try:
            key, stored = await sync_to_async(self._lookup, thread_sensitive=False)(language, path_hash)
        except Exception:  # noqa: BLE001
            logger.warning("public page cache (asgi): read failed", exc_info=True)
            await self.app(scope, receive, send)
            return
        if stored is not None:
            await self._replay(scope, send, stored, cookies)
            return
        await self._pass_and_store(scope, receive, send, key, cookies)

    @staticmethod
    def _lookup(language: str, path_hash: str):
        key = f"publicpage:asgi:{_generation()}:{language}:{path_hash}"
        return key, cache.get(key)

    async def _replay(self, scope, send, stored, cookies: dict) -> None:
        from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

        status, headers, body = stored
        secret = cookies.get(settings.CSRF_COOKIE_NAME, "")
        if len(secret) != 32 or not secret.isalnum():
            secret = _get_new_csrf_string()
        body = body.replace(CSRF_PLACEHOLDER.encode(), _mask_cipher_secret(secret).encode())
        out = [*headers, (b"set-cookie", _csrf_cookie(secret)), (b"x-public-cache", b"hit"),
               (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    async def _pass_and_store(self, scope, receive, send, key: str, cookies: dict) -> None:
        start: dict = {}
        chunks: list[bytes] = []
        size = 0

        async def capture(message) -> None:
            nonlocal size
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body" and size <= _MAX_BODY:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
            await send(message)

        await self.app(scope, receive, capture)
        if scope["method"] != "GET" or start.get("status") != 200 or size > _MAX_BODY:
            return
        headers = start.get("headers", [])
        names = {name.lower(): value for name, value in headers}
        ttl = int(names.get(TTL_HEADER.lower().encode(), b"0") or 0)
        if ttl <= 0 or b"x-public-cache" not in names:
            return
        secret = _csrf_secret_of(headers, cookies)
        if secret is None:
            return
        body = b"".join(chunks)
        placeholder = CSRF_PLACEHOLDER.encode()

        def swap(match: re.Match) -> bytes:
            from django.middleware.csrf import _unmask_cipher_token

            token = match.group(0).decode()
            return placeholder if _unmask_cipher_token(token) == secret else match.group(0)

        body = _TOKEN_BYTES.sub(swap, body)
        kept = [(name, value) for name, value in headers if name.lower() not in _SKIP_HEADERS]
        from asgiref.sync import sync_to_async

        try:
            await sync_to_async(cache.set, thread_sensitive=False)(key, (200, kept, body), ttl)
        except Exception:  # noqa: BLE001
            logger.warning("public page cache (asgi): write failed", exc_info=True)


_TOKEN_BYTES = re.compile(rb"\b[A-Za-z0-9]{64}\b")


def _csrf_secret_of(headers: list, cookies: dict) -> str | None:
    """The CSRF secret the response's tokens were made from: the one it sets, else the visitor's."""
    from http.cookies import SimpleCookie

    for name, value in headers:
        if name.lower() == b"set-cookie":
            jar = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if settings.CSRF_COOKIE_NAME in jar:
                return jar[settings.CSRF_COOKIE_NAME].value
    secret = cookies.get(settings.CSRF_COOKIE_NAME)
    return secret if secret and len(secret) == 32 else None
