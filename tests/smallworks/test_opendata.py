"""Open data of fixed-price projects: every release package the API serves validates offline against the
vendored OCDS 1.1.5 schema (libcoveocds, every additional check) with 0 errors and 0 warnings, in every
status a project reaches; amounts are JSON numbers, URIs absolute, the metadata the tender packages' own;
the OpenAPI schema documents what the endpoint returns (docs/smallworks.md, "Open data")."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import yaml
from django.conf import settings
from django.test import Client, override_settings

from smallworks.models import PickStatus, Project, ProjectStatus
from smallworks.opendata import project_release, published_projects
from tests.trading.ocds.validation import offline, require_standard_zip
from trading.ocds.validation import validate_package

pytestmark = pytest.mark.django_db
PREFIX = "ocds-7tr4de"


def _served(project) -> dict:
    response = Client().get(f"/api/v1/fixed-price/projects/{project.public_id}/ocds")
    assert response.status_code == 200, response.content
    return response.json()


def _valid(package: dict, **kwargs):
    require_standard_zip()
    with offline():
        result = validate_package(json.loads(json.dumps(package)), **kwargs)
    assert result.errors == [] and result.warnings == [], result.problems()
    return result


def _checked(project, *, tag: list[str], status: str) -> dict:
    """The served package of `project`: valid, numbers as numbers, absolute URIs, tender metadata."""
    package = _served(project)
    _valid(package)
    assert package["uri"] == f"http://testserver/api/v1/fixed-price/projects/{project.public_id}/ocds"
    assert package["publicationPolicy"] == "http://testserver/open-data/ocds/publication-policy"
    assert package["publisher"] == {"name": settings.CENTRE_NAME, "uri": "http://testserver/"}
    assert package["license"] == "https://creativecommons.org/licenses/by/4.0/" and package["version"] == "1.1"
    assert "extensions" not in package
    [release] = package["releases"]
    assert release["ocid"] == f"{PREFIX}-{project.code}" and release["tag"] == tag
    assert release["tender"]["status"] == status
    amounts = [release["tender"]["value"]["amount"]] + [x["value"]["amount"] for key in ("awards", "contracts")
                                                        for x in release.get(key, [])]
    assert all(type(a) is int and a == 1500000 for a in amounts), amounts
    # The API renders exactly what the mapping builds (the output serializer drops nothing).
    assert release == project_release(Project.objects.get(pk=project.pk), _ctx())
    _documented(package)
    return release


def _ctx():
    from trading.ocds.mapping import Context

    return Context(base_url="http://testserver/")


def _confirm(fp, project):
    from smallworks.services import pick_confirm

    pick = project.drawing.picks.get(status=PickStatus.CALLED)
    user = next(b for b in fp.bidders if b.organisation_id == pick.organisation_id)
    pick_confirm(actor=user, pick=pick)
    return pick


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_every_status_serves_a_valid_package(fp, clock, make_project, reviewed):
    from smallworks.services import contract_record, drawing_start, project_complete

    draft = make_project(publish=False)
    for user in (None, fp.agent, fp.tenderer):
        client = Client()
        if user is not None:
            client.force_login(user)
        assert client.get(f"/api/v1/fixed-price/projects/{draft.public_id}/ocds").status_code == 404
    assert not published_projects().filter(pk=draft.pk).exists()

    published = make_project()
    release = _checked(published, tag=["tender"], status="active")
    assert "awards" not in release and {p["roles"][0] for p in release["parties"]} == {"buyer", "procuringEntity"}
    tender = release["tender"]
    assert tender["procurementMethod"] == "limited" and tender["mainProcurementCategory"] == "works"
    assert tender["eligibilityCriteria"].splitlines()[0] == "Works contractor licence, road class 3 or above"
    assert tender["documents"][0]["url"] == f"http://testserver/fixed-price/{published.public_id}/"
    assert release["id"].startswith(f"{PREFIX}-{published.code}-tender-")

    project = reviewed(deposit=Decimal("0"))
    assert project.status == ProjectStatus.REVIEWED
    _checked(project, tag=["tender"], status="active")
    drawing_start(actor=fp.agent, project=project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAWN
    release = _checked(project, tag=["tender"], status="active")
    # Who was drawn is not an award until the enterprise confirms.
    assert "awards" not in release and len(release["parties"]) == 2

    pick = _confirm(fp, project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.PUBLICITY
    release = _checked(project, tag=["award"], status="complete")
    [award] = release["awards"]
    assert award["status"] == "pending" and award["suppliers"][0]["name"] == pick.organisation.name
    assert award["documents"][0]["url"] == f"http://testserver/fixed-price/{project.public_id}/drawing/"
    assert {p["name"]: p["roles"] for p in release["parties"]}[pick.organisation.name] == ["supplier"]

    clock.advance(days=3, minutes=1)
    contract_record(actor=fp.agent, project=project)
    project.refresh_from_db()
    release = _checked(project, tag=["award", "contract"], status="complete")
    assert release["awards"][0]["status"] == "active"
    [contract] = release["contracts"]
    assert contract["status"] == "active" and contract["awardID"] == award["id"] and "period" not in contract

    clock.advance(days=30)
    project_complete(actor=fp.agent, project=project)
    project.refresh_from_db()
    release = _checked(project, tag=["award", "contract"], status="complete")
    assert release["contracts"][0]["status"] == "terminated" and "endDate" in release["contracts"][0]["period"]


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_a_failed_project_is_an_unsuccessful_tender(fp, clock, reviewed):
    from smallworks.services import drawing_start, pick_refuse

    project = reviewed(reserves=0, deposit=Decimal("0"))
    drawing = drawing_start(actor=fp.agent, project=project)
    while Project.objects.get(pk=project.pk).status != ProjectStatus.FAILED:
        pick = drawing.picks.get(status=PickStatus.CALLED)
        pick_refuse(actor=next(b for b in fp.bidders if b.organisation_id == pick.organisation_id), pick=pick)
    project.refresh_from_db()
    release = _checked(project, tag=["tenderUpdate"], status="unsuccessful")
    assert "awards" not in release and "contracts" not in release
    text = json.dumps(release, ensure_ascii=False)
    assert not any(org.name in text for org in fp.orgs)  # nobody who refused is published


@override_settings(OCDS_OCID_PREFIX=PREFIX)
def test_a_self_run_project_has_one_party_with_both_roles(fp, make_user, clock):
    from smallworks.services import project_create, project_publish

    project = project_create(
        actor=fp.agent, tenderer=fp.agent_org, title="Office roof", description="Roof of the agent's office",
        contract_price=Decimal("1500000.00"), qualification_conditions=["Works contractor licence"],
        registration_ends_at=clock.now() + timedelta(days=5), drawing_at=clock.now() + timedelta(days=9),
        signing_days=5, reserves=1, deposit_amount=Decimal("0"))
    project_publish(actor=fp.agent, project=project)
    release = _checked(project, tag=["tender"], status="active")
    assert [p["roles"] for p in release["parties"]] == [["buyer", "procuringEntity"]]
    assert release["tender"]["description"] == "Roof of the agent's office"


def test_the_placeholder_prefix_is_the_only_finding(fp, make_project):
    package = _served(make_project())
    require_standard_zip()
    with offline():
        strict = validate_package(package)
    assert set(strict.conformance_errors) == {"ocds_prefixes_bad_format"} and not strict.warnings
    _valid(package, allow_placeholder_prefix=True)


_SCHEMA: dict = {}


def _schema() -> dict:
    if not _SCHEMA:
        _SCHEMA.update(yaml.safe_load(Client().get("/api/schema/").content))
    return _SCHEMA


def _documented(package: dict) -> None:
    """Every key of the response is in the OpenAPI schema of the endpoint, every required key is in the
    response, and each value has the schema's type (amounts: numbers in both)."""
    schema = _schema()
    get = schema["paths"]["/api/v1/fixed-price/projects/{id}/ocds"]["get"]
    assert "404" in get["responses"] and "open data" in get["tags"]
    components = schema["components"]["schemas"]

    def resolve(node):
        while "$ref" in node or "allOf" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node["allOf"][0]
        return node

    def matches(value, node, path):
        node = resolve(node)
        if isinstance(value, dict):
            assert set(value) <= set(node["properties"]), (path, set(value) - set(node["properties"]))
            assert set(node.get("required", [])) <= set(value), path
            for key, item in value.items():
                matches(item, node["properties"][key], f"{path}.{key}")
        elif isinstance(value, list):
            assert node["type"] == "array", path
            for item in value:
                matches(item, node["items"], f"{path}[]")
        elif isinstance(value, int | float):
            assert node["type"] == "number", path
        else:
            assert node["type"] == "string", path

    matches(package, get["responses"]["200"]["content"]["application/json"]["schema"], "package")
