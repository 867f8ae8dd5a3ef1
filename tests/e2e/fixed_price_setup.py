"""Set up and run a fixed-price drawing in the e2e server's database (tests/e2e/test_fixed_price_room.py).

`python -m tests.e2e.fixed_price_setup prepare` creates a project ready to draw (five enterprises
registered without deposit, qualified, one with a declared relation to the tenderer, result published,
objection period over — on the demo clock of demo/fixed_price.py) and prints JSON with its ids and the
usernames; `... draw <project pk>` runs the drawing (commit, a pause, then the sample)."""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from decimal import Decimal

import django


def prepare() -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from demo.fixed_price import _cast, demo_clock
    from smallworks import services
    from trading import clock

    tag = f"e2e{int(time.time()) % 100000}"
    tenderer, agent, bidders, supervisor = _cast(tag)
    with demo_clock() as jump:
        jump(days=-30)  # the project lies in the past of the server's clock: the drawing may start now
        project = services.project_create(
            actor=agent, tenderer=tenderer, title=f"E2E village road {tag}", contract_price=Decimal("900000.00"),
            qualification_conditions=["Works licence"], registration_ends_at=clock.now() + timedelta(days=5),
            drawing_at=clock.now() + timedelta(days=9), signing_days=5, reserves=2, deposit_amount=Decimal(0))
        services.project_publish(actor=agent, project=project)
        entries = []
        for i, user in enumerate(bidders):
            pdf = SimpleUploadedFile("licence.pdf", b"%PDF-1.4 e2e", "application/pdf")
            entries.append(services.entry_register(actor=user, project=project, documents=[pdf],
                                                   relation_declared="subsidiary of the tenderer" if i == 4 else "")[0])
        jump(days=5, minutes=1)
        for entry in entries:
            services.entry_review(actor=agent, entry=entry, passed=True, reasons="licence valid")
        services.review_publish(actor=agent, project=project)
    return {"project": project.pk, "public_id": str(project.public_id), "agent": agent.username,
            "bidder": bidders[0].username, "related": bidders[4].organisation.name,
            "supervisor": supervisor.username}


def draw(project_pk: int) -> dict:
    from demo.fixed_price import demo_clock
    from smallworks import services
    from smallworks.models import Project

    project = Project.objects.get(pk=project_pk)
    with demo_clock():
        drawing = services.drawing_commit(actor=project.created_by, project=project)
        time.sleep(1.5)  # the watchers see the commitment before the result
        drawing = services.drawing_sample(drawing_id=drawing.pk)
    return {"picks": [p.organisation.name for p in drawing.picks.select_related("organisation").order_by("position")],
            "seed": drawing.seed_revealed}


if __name__ == "__main__":
    django.setup()
    command = sys.argv[1]
    result = prepare() if command == "prepare" else draw(int(sys.argv[2]))
    print(json.dumps(result, ensure_ascii=False))
