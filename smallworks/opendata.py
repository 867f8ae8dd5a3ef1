"""Open data for a fixed-price result: one OCDS 1.1 release (docs/smallworks.md, "Open data").

The release has tag ["award", "contract"] once an enterprise confirmed (awards: the drawn
enterprise at the fixed price, status "pending" during the publicity, "active" once contracted),
["tenderUpdate"] before; `tender.procurementMethod` is "limited" with `procurementMethodDetails`
"fixed-price comparison with random drawing (固定价比选, 随机抽取)" and `tender.awardCriteria`
"ratedCriteria" is not used: the price is fixed, the choice is the drawing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from audit.canonical import format_timestamp
from smallworks.models import Project, ProjectStatus


def _party(org, role: str) -> dict:
    return {"id": f"CN-USCC-{org.uscc}", "name": org.name, "identifier": {"scheme": "CN-USCC", "id": org.uscc},
            "roles": [role]}


def project_release(project: Project) -> dict[str, Any]:
    prefix = str(getattr(settings, "OCDS_OCID_PREFIX", "ocds-ptrade"))
    price = {"amount": format(project.contract_price, "f"), "currency": "CNY"}
    parties = [_party(project.tenderer, "buyer"), _party(project.agent, "procuringEntity")]
    awarded = project.contractor_id is not None and project.status != ProjectStatus.FAILED
    tags = ["award", "contract"] if awarded and project.contract_signed_at else ["award"] if awarded else ["tender"]
    release: dict[str, Any] = {
        "ocid": f"{prefix}-{project.code}", "id": f"{project.code}-{project.status}",
        "date": format_timestamp(project.updated_at), "tag": tags, "initiationType": "tender",
        "language": "zh", "parties": parties,
        "buyer": {"id": parties[0]["id"], "name": project.tenderer.name},
        "tender": {"id": project.code, "title": project.title, "status": (
            "unsuccessful" if project.status == ProjectStatus.FAILED else
            "complete" if awarded else "active"), "value": price, "mainProcurementCategory": "works",
            "procurementMethod": "limited",
            "procurementMethodDetails": "fixed-price comparison with random drawing (固定价比选, 随机抽取)",
            "eligibilityCriteria": "\n".join(project.qualification_conditions),
            "tenderPeriod": {"endDate": format_timestamp(project.registration_ends_at)},
            "procuringEntity": {"id": parties[1]["id"], "name": project.agent.name}},
    }
    if awarded:
        supplier = _party(project.contractor, "supplier")
        parties.append(supplier)
        release["awards"] = [{"id": f"{project.code}-A1", "status": "active" if project.contract_signed_at
                              else "pending", "value": price,
                              "suppliers": [{"id": supplier["id"], "name": supplier["name"]}]}]
        if project.contract_signed_at:
            release["contracts"] = [{"id": f"{project.code}-C1", "awardID": f"{project.code}-A1", "status": (
                "terminated" if project.completed_at else "active"), "value": price,
                "dateSigned": format_timestamp(project.contract_signed_at)}]
    return release


def project_package(project: Project) -> dict[str, Any]:
    return {"uri": f"/api/v1/fixed-price/projects/{project.public_id}/ocds", "version": "1.1",
            "publishedDate": format_timestamp(project.updated_at),
            "publisher": {"name": str(getattr(settings, "OCDS_PUBLISHER_NAME", "Public Resource Trading Center"))},
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "publicationPolicy": "/docs/smallworks.md", "releases": [project_release(project)]}
