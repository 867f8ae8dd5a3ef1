"""Security headers and the proxy scheme header (docs/configuration.md, "Production").

`SecurityHeadersMiddleware` runs first:
- it drops `X-Forwarded-Proto` unless the request came from a configured proxy
  (`TRUSTED_PROXIES`), so `SECURE_PROXY_SSL_HEADER` can only be set by that proxy;
- it adds the Content-Security-Policy (`CONTENT_SECURITY_POLICY`, default `DEFAULT_CSP`) to every
  response: scripts only from the platform's own files, no inline script, no inline event handler,
  no `eval`; the ReDoc page (third-party, no platform data) gets `REDOC_CSP`.
"""

from __future__ import annotations

from django.conf import settings

from config.clientip import is_trusted_proxy

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# ReDoc's bundled page starts with an inline script and runs a blob: worker.
REDOC_CSP = DEFAULT_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline' blob:")
RELAXED_PREFIXES = ("/api/redoc/",)


def content_security_policy(path: str) -> str:
    if path.startswith(RELAXED_PREFIXES):
        return REDOC_CSP
    return str(getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP))


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "HTTP_X_FORWARDED_PROTO" in request.META and not is_trusted_proxy(request.META.get("REMOTE_ADDR")):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request.path))
        return response
