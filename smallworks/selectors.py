"""Read side of the fixed-price comparison: lists, the room's state, what a viewer may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.policy import can
from audit.canonical import normalize
from experts import sampler
from smallworks.models import Drawing, Pick, Project, ProjectStatus


def projects_public() -> QuerySet[Project]:
    return Project.objects.exclude(status=ProjectStatus.DRAFT).select_related("tenderer", "agent", "contractor")


def projects_for(user) -> QuerySet[Project]:
    qs = Project.objects.select_related("tenderer", "agent", "contractor")
    if getattr(user, "organisation_id", None) and user.has_role("agent"):
        return qs.filter(Q(agent_id=user.organisation_id) | ~Q(status=ProjectStatus.DRAFT))
    return qs.exclude(status=ProjectStatus.DRAFT)


def drawing_of(project: Project) -> Drawing | None:
    return Drawing.objects.filter(project=project).first()


def room_state(project: Project, user: Any) -> dict:
    """What the drawing room shows at connect time (then events follow)."""
    drawing = drawing_of(project)
    picks = list(Pick.objects.filter(drawing=drawing).select_related("organisation")) if drawing and \
        drawing.drawn_at else []
    org_id = getattr(user, "organisation_id", None)
    state: dict[str, Any] = {
        "project": project.pk, "code": project.code, "title": project.title, "status": project.status,
        "status_label": str(project.get_status_display()), "drawing_at": project.drawing_at,
        "committed": None, "picks": [
            {"position": p.position, "organisation": p.organisation.name, "uscc": p.organisation.uscc,
             "status": p.status, "status_label": str(p.get_status_display()), "sign_due_at": p.sign_due_at,
             "mine": bool(org_id and p.organisation_id == org_id), "id": p.pk} for p in picks],
        "seed": drawing.seed_revealed if drawing else "",
        "excluded": None,
    }
    if drawing is not None:
        names = {e.organisation_id: e.organisation.name for e in project.entries.select_related("organisation")}
        state["committed"] = {"pool": [names.get(o, str(o)) for o in sampler.decode_ids(drawing.pool_ids)],
                              "seed_sha256": drawing.seed_sha256, "entropy": drawing.entropy,
                              "commit_seq": drawing.commit_seq}
        if can(user, "fixed_price.supervise", project):
            state["excluded"] = drawing.excluded
    return normalize(state)
