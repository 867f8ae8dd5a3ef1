from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The persisted live event streams (docs/architecture.md, "Layers"): `Stream`, `StreamEvent`,
    `stream_publish` and the generic WebSocket consumer base. Below the domain apps, above accounts."""

    name = "realtime"
