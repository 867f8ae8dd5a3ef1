"""The specialty code list shipped as experts/fixtures/specialties.json (loaded by migration 0002)."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "specialties.json"


def fixture_rows() -> list[dict]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def specialties_load(model=None) -> int:
    """Create the missing specialties (parents first); returns how many were created. Idempotent.

    `model` is the Specialty model (a migration passes its historical model)."""
    if model is None:
        from experts.models import Specialty as model  # noqa: N813
    existing = set(model.objects.values_list("code", flat=True))
    created = 0
    for row in sorted(fixture_rows(), key=lambda r: len(r["pk"])):
        if row["pk"] in existing:
            continue
        fields = row["fields"]
        model.objects.create(code=row["pk"], name=fields["name"], name_en=fields.get("name_en", ""),
                             parent_id=fields["parent"], category=fields["category"])
        created += 1
    return created
