"""The live drawing room: /ws/fixed-price/<project_id>/ on the persisted stream "fixed_price:<id>".

Anyone may watch a published project's room (the drawing is public); the snapshot carries the
project's status, the pool, the sequence and, for supervisors, the exclusions with reasons
(events with the supervisors' audience reach others as "redacted" placeholders, base protocol).
"""

from __future__ import annotations

from typing import Any

from accounts.policy import can
from realtime.consumers import StreamConsumer
from smallworks.models import Project, ProjectStatus
from smallworks.selectors import room_state


class DrawingRoomConsumer(StreamConsumer):
    tail_seconds = 1.0

    def stream_key(self) -> str:
        return f"fixed_price:{self.scope['url_route']['kwargs']['project_id']}"

    def _project(self) -> Project | None:
        return Project.objects.filter(pk=self.scope["url_route"]["kwargs"]["project_id"]).exclude(
            status=ProjectStatus.DRAFT).select_related("tenderer", "agent").first()

    def may_connect(self, user: Any) -> bool:
        project = self._project()
        return project is not None and can(user, "fixed_price.view", project)

    def build_state(self, user: Any) -> dict:
        return room_state(self._project(), user)
