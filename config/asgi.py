"""ASGI entry point: HTTP and WebSocket on one port (served by uvicorn or daphne)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from bidding_ui.page_cache import PublicPageASGI  # noqa: E402
from bidding_ui.routing import websocket_urlpatterns  # noqa: E402
from config.bodylimit import BodyLimitMiddleware  # noqa: E402
from config.shedding import LoadShedder  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Cached anonymous public pages first (served even when saturated, bidding_ui/page_cache.py);
        # past WEB_MAX_INFLIGHT (+ a short queue) requests get 503 + Retry-After (config/shedding.py);
        # body limits and authentication of large uploads before Django reads a body (config/bodylimit.py).
        "http": PublicPageASGI(LoadShedder(BodyLimitMiddleware(django_asgi_app))),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
