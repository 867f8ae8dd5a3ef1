"""The live supervision dashboard's warnings about fixed-price signatures (supervision.live registry;
`supervision.*` after the merge): a drawn enterprise that has not signed is yellow once half its
signing period has passed, red once the period is over (the lapse step then forfeits and moves on)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from smallworks.models import Pick, PickStatus
from supervision.live import SupervisionWarning, due_level, warning_source


@warning_source("fixed_price_signature")
def signature_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    rows = (Pick.objects.filter(status=PickStatus.CALLED, sign_due_at__isnull=False)
            .select_related("drawing__project", "organisation").order_by("sign_due_at", "pk"))
    for pick in rows:
        level = due_level(pick.sign_due_at, now, (pick.sign_due_at - pick.called_at) / 2)
        if level:
            project = pick.drawing.project
            yield SupervisionWarning(
                key=f"fixed_price_signature:{pick.pk}", level=level, kind="fixed_price_signature",
                tender=project.carrier_id, tender_code=project.code, subject=f"smallworks.pick:{pick.pk}",
                due_at=pick.sign_due_at, detail=f"{pick.organisation.name} has not signed (position {pick.position})")
