"""Offline validation of OCDS packages against the official 1.1.5 schema (the standard's zip).

libcoveocds (a dev dependency) downloads the standard at run time unless it is given the
standard's zip; the platform always passes it (PITFALLS.md): `settings.OCDS_STANDARD_ZIP` or
`<repo>/../shared/data/ocds/standard-1__1__5.zip`. Packages never declare schema extensions,
so nothing else is fetched — except one thing libcoveocds 0.17 does for record packages: it
dereferences the record package schema with `jsonref`, whose default loader downloads the
`versioned-release-validation-schema.json` it references. `validate_package` therefore runs
libcoveocds with a `jsonref` loader that serves the standard's schema files from the same zip
(`_offline_refs`) and refuses any other URL, so a record package validates offline too.
The result counts as valid only with no schema validation error,
no value outside a closed codelist, no field outside the schema, no conformance error
(e.g. a malformed ocid prefix) and no failed additional check.
"""

from __future__ import annotations

import contextlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

STANDARD_ZIP_NAME = "standard-1__1__5.zip"


def standard_zip() -> Path:
    configured = getattr(settings, "OCDS_STANDARD_ZIP", "")
    if configured:
        return Path(configured)
    return Path(settings.BASE_DIR).resolve().parent / "shared" / "data" / "ocds" / STANDARD_ZIP_NAME


class ValidatorUnavailable(RuntimeError):
    """libcoveocds is not installed, or the standard's zip is missing."""


@dataclass
class Validation:
    validation_errors: list = field(default_factory=list)
    closed_codelist_values: dict = field(default_factory=dict)
    additional_fields: list = field(default_factory=list)
    conformance_errors: dict = field(default_factory=dict)
    additional_checks: dict = field(default_factory=dict)
    open_codelist_values: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (
            self.validation_errors
            or self.closed_codelist_values
            or self.additional_fields
            or self.conformance_errors
            or self.additional_checks
        )

    def problems(self) -> list[str]:
        out = [f"schema: {message}" for message, _values in self.validation_errors]
        out += [f"closed codelist {path}: {info.get('values')}" for path, info in self.closed_codelist_values.items()]
        out += [f"additional field: {f}" for f in self.additional_fields]
        out += [f"conformance: {k}: {v}" for k, v in self.conformance_errors.items()]
        out += [f"check: {k}: {v}" for k, v in self.additional_checks.items()]
        return out


STANDARD_SCHEMA_URL = re.compile(r"^https?://standard\.open-contracting\.org/schema/1__1__5/(?P<name>[a-z-]+\.json)$")


def _zip_schema(zip_path: Path, name: str) -> dict:
    with zipfile.ZipFile(zip_path) as archive:
        member = next((n for n in archive.namelist() if n.endswith(f"/schema/{name}")), None)
        if member is None:
            raise LookupError(f"{name} is not in {zip_path}")
        return json.loads(archive.read(member))


@contextlib.contextmanager
def _offline_refs(zip_path: Path):
    """Make jsonref resolve the standard's schema URLs from the zip; any other remote URL is an error."""
    import jsonref

    original = jsonref.replace_refs

    def loader(uri, **_kwargs):
        match = STANDARD_SCHEMA_URL.match(uri)
        if not match:
            raise ValueError(f"offline OCDS validation: refusing to fetch {uri}")
        return _zip_schema(zip_path, match["name"])

    def replace_refs(obj, *args, **kwargs):
        kwargs.setdefault("loader", loader)
        return original(obj, *args, **kwargs)

    jsonref.replace_refs = replace_refs
    try:
        yield
    finally:
        jsonref.replace_refs = original


def validate_package(package: dict) -> Validation:
    """Validate a release package or a record package, offline."""
    zip_path = standard_zip()
    if not zip_path.is_file():
        raise ValidatorUnavailable(f"the OCDS standard zip is missing: {zip_path}")
    try:
        from libcoveocds.api import ocds_json_output
        from libcoveocds.config import LibCoveOCDSConfig
    except ImportError as exc:  # a dev dependency (pyproject.toml [dev])
        raise ValidatorUnavailable("libcoveocds is not installed (pip install -e '.[dev]')") from exc
    if package.get("extensions"):
        raise ValueError("the platform's packages declare no extensions (they would be fetched over the network)")
    config = LibCoveOCDSConfig()
    config.config["standard_zip"] = zip_path.resolve().as_uri()
    config.config["context"] = "api"
    with _offline_refs(zip_path):
        context = ocds_json_output(json_data=package, lib_cove_ocds_config=config, record_pkg="records" in package)
    return Validation(
        validation_errors=list(context.get("validation_errors") or []),
        closed_codelist_values=dict(context.get("additional_closed_codelist_values") or {}),
        additional_fields=list(context.get("additional_fields") or []),
        conformance_errors=dict(context.get("conformance_errors") or {}),
        additional_checks=dict(context.get("additional_checks") or {}),
        open_codelist_values=dict(context.get("additional_open_codelist_values") or {}),
    )
