"""ASGI entry point: HTTP and WebSocket on one port (served by uvicorn or daphne)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from bidding_ui.routing import websocket_urlpatterns  # noqa: E402
from config.bodylimit import BodyLimitMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Body limits, authentication of large uploads, before Django reads a body (config/bodylimit.py).
        "http": BodyLimitMiddleware(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
