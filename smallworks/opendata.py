"""Open data for a fixed-price project: one OCDS 1.1 release (docs/smallworks.md, "Open data";
docs/ocds.md, "Fixed-price projects").

Built with the `trading.ocds` helpers, as tenders and auction results are, so the package validates
against the vendored OCDS 1.1.5 schema with libcoveocds (all additional checks) with no error and no
warning: amounts are JSON numbers (`money`), dates RFC 3339 UTC (`when`), the release id is
content-addressed (`release_finish`), and the package metadata (`metadata`: absolute `uri`, publisher,
licence, publication policy) is the tender packages' own; no extension is declared (core fields only).

The release, as of the project's status:
- registration … drawn (`registration`, `review`, `reviewed`, `drawn`): tag ["tender"], tender
  `active` (the published notice: fixed price, conditions, registration period, notice page);
- `publicity` (an enterprise confirmed): tag ["award"], tender `complete`, award `pending` to it at the
  fixed price, with the public drawing record;
- `contracted` / `completed`: tag ["award", "contract"], award `active`, contract `active` /
  `terminated` (works completed) with `dateSigned`;
- `failed` (no enterprise left to sign, or nobody qualified): tag ["tenderUpdate"], tender `unsuccessful`.
`tender.procurementMethod` is "limited" with `procurementMethodDetails` "fixed-price comparison with random
drawing (固定价比选, 随机抽取)"; no `awardCriteria`: the price is fixed, the choice is the drawing.
Drafts have no open data (the API answers 404, for every caller).

Registers the "fixed-price" open data source (`trading.ocds.sources`; imported by SmallworksConfig.ready).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from smallworks.models import Pick, PickStatus, Project, ProjectStatus
from trading.ocds.mapping import (
    Context,
    default_context,
    money,
    ocid_prefix,
    org_ref,
    party_id,
    release_finish,
    when,
)
from trading.ocds.packages import metadata
from trading.ocds.sources import OpenDataSource, source_register

METHOD_DETAILS = "fixed-price comparison with random drawing (固定价比选, 随机抽取)"
AWARDED = (ProjectStatus.PUBLICITY, ProjectStatus.CONTRACTED, ProjectStatus.COMPLETED)
CONTRACTED = (ProjectStatus.CONTRACTED, ProjectStatus.COMPLETED)


def published_projects() -> QuerySet[Project]:
    """Every project whose open data is served: published, in any status but draft."""
    return (Project.objects.exclude(status=ProjectStatus.DRAFT).filter(published_at__isnull=False)
            .select_related("tenderer", "agent", "contractor").order_by("published_at", "pk"))


def ocid(project: Project) -> str:
    """`<OCDS_OCID_PREFIX>-<project code>` (GDJ-YYYYMMDD-NNNNN: never a tender or a trade code)."""
    return f"{ocid_prefix()}-{project.code}"


def _party(org, roles: list[str]) -> dict:
    """Name and USCC only, as the public project page shows them."""
    return {"id": party_id(org), "name": org.name,
            "identifier": {"scheme": "CN-USCC", "id": org.uscc, "legalName": org.name}, "roles": roles}


def _parties(pairs: list[tuple[Any, str]]) -> list[dict]:
    """One party per organisation, its roles merged (a tenderer running its own project is both)."""
    out: dict[int, dict] = {}
    for org, role in pairs:
        if org.pk in out:
            out[org.pk]["roles"].append(role)
        else:
            out[org.pk] = _party(org, [role])
    return list(out.values())


def _signed(project: Project) -> Pick | None:
    return (Pick.objects.filter(drawing__project=project, status=PickStatus.SIGNED, organisation=project.contractor_id)
            .order_by("-signed_at").first())


def _tender(project: Project, ctx: Context) -> dict:
    status = ("unsuccessful" if project.status == ProjectStatus.FAILED else
              "complete" if project.status in AWARDED else "active")
    tender: dict[str, Any] = {
        "id": project.code, "title": project.title, "status": status,
        "procuringEntity": org_ref(project.agent), "value": money(project.contract_price),
        "procurementMethod": "limited", "procurementMethodDetails": METHOD_DETAILS,
        "mainProcurementCategory": "works",
        "tenderPeriod": {"startDate": when(project.published_at), "endDate": when(project.registration_ends_at)},
        "documents": [{
            "id": f"{project.code}-notice", "documentType": "tenderNotice", "title": project.title,
            "url": ctx.url(reverse("smallworks-project", args=[project.public_id])),
            "datePublished": when(project.published_at), "format": "text/html", "language": "zh",
        }],
    }
    if project.description:
        tender["description"] = project.description
    conditions = [c for c in project.qualification_conditions if str(c).strip()]
    if conditions:
        tender["eligibilityCriteria"] = "\n".join(str(c) for c in conditions)
    return tender


def _award(project: Project, ctx: Context, pick: Pick | None) -> dict:
    award: dict[str, Any] = {
        "id": f"{project.code}-award", "title": f"{project.code}: {project.title}",
        "status": "active" if project.status in CONTRACTED else "pending",
        "value": money(project.contract_price), "suppliers": [org_ref(project.contractor)],
        "description": "随机抽取 (drawn at random among the qualified enterprises) and confirmed at the fixed price",
        "documents": [{
            "id": f"{project.code}-drawing", "documentType": "evaluationReports",
            "title": "公开抽取记录 (public drawing record)",
            "url": ctx.url(reverse("smallworks-record", args=[project.public_id])),
            "format": "text/html", "language": "zh",
        }],
    }
    if pick is not None and pick.signed_at:
        award["date"] = when(pick.signed_at)
        award["documents"][0]["datePublished"] = when(pick.signed_at)
    return award


def _date(project: Project, pick: Pick | None) -> datetime:
    """The last public change: completion, contract, confirmation, failure; else the publication."""
    if project.status == ProjectStatus.FAILED:
        return project.updated_at
    moments = [project.completed_at, project.contract_signed_at, pick.signed_at if pick else None]
    return next((m for m in moments if m is not None), project.published_at)


def project_release(project: Project, ctx: Context | None = None) -> dict[str, Any]:
    """The release of a published project (see the module's docstring)."""
    ctx = ctx or default_context()
    awarded = project.status in AWARDED and project.contractor_id is not None
    contracted = awarded and project.status in CONTRACTED and project.contract_signed_at is not None
    pick = _signed(project) if awarded else None
    pairs = [(project.tenderer, "buyer"), (project.agent, "procuringEntity")]
    if awarded:
        pairs.append((project.contractor, "supplier"))
    tags = (["award", "contract"] if contracted else ["award"] if awarded else
            ["tenderUpdate"] if project.status == ProjectStatus.FAILED else ["tender"])
    stage = "contract" if contracted else "award" if awarded else "tender"
    release: dict[str, Any] = {
        "ocid": ocid(project), "id": stage, "date": when(_date(project, pick)), "tag": tags,
        "initiationType": "tender", "language": "zh", "parties": _parties(pairs),
        "buyer": org_ref(project.tenderer), "tender": _tender(project, ctx),
    }
    if awarded:
        release["awards"] = [_award(project, ctx, pick)]
    if contracted:
        release["contracts"] = [{
            "id": f"{project.code}-contract", "awardID": f"{project.code}-award", "title": project.title,
            "status": "terminated" if project.completed_at else "active", "value": money(project.contract_price),
            "dateSigned": when(project.contract_signed_at),
        }]
        if project.completed_at:
            release["contracts"][0]["period"] = {"startDate": when(project.contract_signed_at),
                                                 "endDate": when(project.completed_at)}
    return release_finish(release)


def project_package(project: Project, *, uri: str, ctx: Context | None = None) -> dict[str, Any]:
    """The release package `GET /api/v1/fixed-price/projects/<id>/ocds` serves (`uri` = that URL)."""
    return projects_package([project], uri=uri, ctx=ctx)


def projects_package(projects, *, uri: str, ctx: Context | None = None) -> dict[str, Any]:
    """A release package (the OCDS metadata of docs/ocds.md, no extension) of `projects`' releases."""
    ctx = ctx or default_context()
    return {**metadata(uri, ctx, extensions=()), "releases": [project_release(p, ctx) for p in projects]}


def _served(project: Project, ctx: Context) -> list[tuple[str, dict]]:
    uri = ctx.url(reverse("api-fp-ocds", args=[project.public_id]))
    return [(f"{project.code} release package", project_package(project, uri=uri, ctx=ctx))]


SOURCE = source_register(OpenDataSource(
    key="fixed-price", noun="published fixed-price project", published=published_projects,
    process_packages=_served, list_packages=lambda ctx: [],
))
