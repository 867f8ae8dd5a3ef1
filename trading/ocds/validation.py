"""Offline validation of OCDS packages with libcoveocds (docs/ocds.md, "Validation").

Everything the validator reads is in the repository (`trading/ocds_schema/`, pinned by SHA-256):
- the official OCDS 1.1.5 standard (`standard-1__1__5.zip`, the release/record package schemas and
  codelists): libcoveocds gets it as its `standard_zip`, so it downloads no standard;
- the platform's bids extension (`extensions/bids/`), which the packages declare by its public URL
  (`<base>/open-data/ocds/extensions/bids/extension.json`): while validating, ocdsextensionregistry's
  HTTP session serves those URLs from the repository copy (`_offline_extensions`) and refuses every
  other URL;
- libcoveocds 0.17 dereferences the record package schema with `jsonref`, whose default loader
  downloads `versioned-release-validation-schema.json`: `_offline_refs` serves the standard's schema
  URLs from the zip and refuses any other URL.
Nothing is fetched over the network (the tests block sockets while validating).

A package counts as valid with no schema error, no value outside a closed codelist, no value
outside an open codelist, no field outside the schema, no deprecated field, no extension that could
not be applied, no failed additional check (libcoveocds `--additional-checks all`) and no conformance
error — except, with `allow_placeholder_prefix=True`, the one conformance error of the documented
placeholder ocid prefix (`ocds-XXXXXX`, `trading.ocds.mapping.DEFAULT_PREFIX`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "ocds_schema"
STANDARD_ZIP_NAME = "standard-1__1__5.zip"
# The pinned copy (trading/ocds_schema/README.md): a different file is refused.
STANDARD_ZIP_SHA256 = "8429bf151e0b25a1e2e495d4f3c58803679fc0906f3eb87f136a63c86c721244"
EXTENSIONS_DIR = SCHEMA_DIR / "extensions"
EXTENSION_FILES = {  # name -> files served at <base>/open-data/ocds/extensions/<name>/<file>
    "bids": ("extension.json", "release-schema.json", "codelists/bidStatus.csv"),
}
EXTENSION_URL = re.compile(r"^https?://[^/]+(?:/[^?#]*)?/open-data/ocds/extensions/(?P<name>[a-z]+)/(?P<file>[A-Za-z./-]+)$")
STANDARD_SCHEMA_URL = re.compile(r"^https?://standard\.open-contracting\.org/schema/1__1__5/(?P<name>[a-z-]+\.json)$")


def standard_zip() -> Path:
    """The standard's zip: `settings.OCDS_STANDARD_ZIP` if set, else the repository's pinned copy."""
    configured = getattr(settings, "OCDS_STANDARD_ZIP", "")
    return Path(configured) if configured else SCHEMA_DIR / STANDARD_ZIP_NAME


def extension_file(name: str, path: str) -> Path | None:
    """A file of one of the platform's extensions, or None for anything else."""
    if path not in EXTENSION_FILES.get(name, ()):
        return None
    return EXTENSIONS_DIR / name / path


class ValidatorUnavailable(RuntimeError):
    """libcoveocds is not installed, or the standard's zip is missing or not the pinned one."""


@dataclass
class Validation:
    validation_errors: list = field(default_factory=list)
    closed_codelist_values: dict = field(default_factory=dict)
    open_codelist_values: dict = field(default_factory=dict)
    additional_fields: list = field(default_factory=list)
    deprecated_fields: list = field(default_factory=list)
    invalid_extensions: list = field(default_factory=list)
    conformance_errors: dict = field(default_factory=dict)
    additional_checks: dict = field(default_factory=dict)
    json_deref_error: str = ""
    allow_placeholder_prefix: bool = False

    @property
    def placeholder_prefix_only(self) -> bool:
        """The only conformance error is the documented placeholder prefix (ocds-XXXXXX) on every ocid."""
        from trading.ocds.mapping import DEFAULT_PREFIX

        bad = self.conformance_errors.get("ocds_prefixes_bad_format") or []
        return set(self.conformance_errors) == {"ocds_prefixes_bad_format"} and bool(bad) and all(
            str(ocid).startswith(DEFAULT_PREFIX + "-") for ocid, _path in bad)

    @property
    def errors(self) -> list[str]:
        out = [f"schema: {e.get('description')} at {e.get('path')}" for e in self.validation_errors]
        out += [f"closed codelist {path}: {info.get('values')}" for path, info in self.closed_codelist_values.items()]
        if self.json_deref_error:
            out.append(f"schema reference: {self.json_deref_error}")
        if self.conformance_errors and not (self.allow_placeholder_prefix and self.placeholder_prefix_only):
            out += [f"conformance: {k}: {v}" for k, v in self.conformance_errors.items()]
        return out

    @property
    def warnings(self) -> list[str]:
        out = [f"open codelist {path}: {info.get('values')}" for path, info in self.open_codelist_values.items()]
        out += [f"additional field: {f.get('path')}/{f.get('field')}" for f in self.additional_fields]
        out += [f"deprecated field: {f.get('field')}" for f in self.deprecated_fields]
        out += [f"extension not applied: {url}: {why}" for url, why in self.invalid_extensions]
        out += [f"check: {k}: {v}" for k, v in self.additional_checks.items()]
        return out

    @property
    def ok(self) -> bool:
        return not (self.errors or self.warnings)

    def problems(self) -> list[str]:
        return self.errors + self.warnings


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


@contextlib.contextmanager
def _offline_extensions():
    """Serve the platform's extension URLs from the repository on ocdsextensionregistry's session;
    refuse every other URL (a ConnectionError, which libcoveocds reports as an invalid extension)."""
    import requests
    from ocdsextensionregistry import util

    class Vendored(requests.adapters.BaseAdapter):
        def send(self, request, **_kwargs):
            match = EXTENSION_URL.match(request.url or "")
            path = extension_file(match["name"], match["file"]) if match else None
            if path is None:
                raise requests.ConnectionError(f"offline OCDS validation: refusing to fetch {request.url}")
            response = requests.Response()
            response.status_code = 200
            response._content = path.read_bytes()
            response.encoding = "utf-8"
            response.url = request.url
            response.request = request
            return response

        def close(self):
            pass

    session = util.session
    saved = dict(session.adapters)
    adapter = Vendored()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    try:
        with session.cache_disabled():
            yield
    finally:
        session.adapters.clear()
        session.adapters.update(saved)


def _checked_zip() -> Path:
    zip_path = standard_zip()
    if not zip_path.is_file():
        raise ValidatorUnavailable(f"the OCDS standard zip is missing: {zip_path}")
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    if digest != STANDARD_ZIP_SHA256:
        raise ValidatorUnavailable(f"{zip_path} is not the pinned OCDS 1.1.5 standard (SHA-256 {digest})")
    return zip_path


def validate_package(package: dict, *, allow_placeholder_prefix: bool = False) -> Validation:
    """Validate a release package or a record package with libcoveocds, offline, every additional check on."""
    zip_path = _checked_zip()
    try:
        from libcoveocds.api import ocds_json_output
        from libcoveocds.config import LibCoveOCDSConfig
    except ImportError as exc:  # pinned in requirements.txt
        raise ValidatorUnavailable("libcoveocds is not installed (pip install -r requirements.txt)") from exc
    config = LibCoveOCDSConfig()
    config.config["standard_zip"] = zip_path.resolve().as_uri()
    config.config["context"] = "api"
    config.config["additional_checks"] = "all"
    with _offline_refs(zip_path), _offline_extensions():
        context = ocds_json_output(json_data=package, lib_cove_ocds_config=config, record_pkg="records" in package)
    extensions = context.get("extensions") or {}
    return Validation(
        validation_errors=list(context.get("validation_errors") or []),
        closed_codelist_values=dict(context.get("additional_closed_codelist_values") or {}),
        open_codelist_values=dict(context.get("additional_open_codelist_values") or {}),
        additional_fields=list(context.get("additional_fields") or []),
        deprecated_fields=list(context.get("deprecated_fields") or []),
        invalid_extensions=list(extensions.get("invalid_extensions") or []),
        conformance_errors=dict(context.get("conformance_errors") or {}),
        additional_checks=dict(context.get("additional_checks") or {}),
        json_deref_error=str(context.get("json_deref_error") or ""),
        allow_placeholder_prefix=allow_placeholder_prefix,
    )
