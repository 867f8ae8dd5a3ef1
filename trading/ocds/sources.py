"""Open data sources: every kind of OCDS document the platform's API serves (docs/ocds.md, "Open data sources").

Tenders are mapped here (`trading.ocds`); fixed-price projects (`smallworks/opendata.py`) and auction
results (`auctions/opendata.py`) are mapped by their sector apps, which sit above `trading.ocds`
(docs/architecture.md, "Layers"): trading never imports them, so they register here from their
AppConfig.ready, and `manage.py ocds_validate` validates whatever is registered:

    from trading.ocds.sources import OpenDataSource, source_register

    source_register(OpenDataSource(
        key="fixed-price",               # the command's option: --fixed-price CODE
        noun="fixed-price project",      # help texts and labels
        published=published_projects,    # () -> queryset of every process whose open data is served
        process_packages=project_docs,   # (process, ctx) -> [(label, package)]: what the API serves for it
        list_packages=lambda ctx: [],    # (ctx) -> [(label, package)]: the list/bulk documents, if any
    ))

`published()` rows have a `code` (the process code that ends the ocid). Packages carry the URL the API
serves them at (`ctx.url(...)`), so a package built here is the document an API client downloads, but
for `publishedDate` (now).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from trading.ocds import packages
from trading.ocds.mapping import Context, ocid

Labelled = list[tuple[str, dict]]
KEY_FORMAT = "lower-case letters and hyphens"


@dataclass(frozen=True)
class OpenDataSource:
    key: str
    noun: str
    published: Callable[[], Any]
    process_packages: Callable[[Any, Context], Labelled]
    list_packages: Callable[[Context], Labelled]

    def process(self, code: str) -> Any | None:
        """The published process with this code, or None."""
        return self.published().filter(code=code).first()

    def documents(self, ctx: Context) -> Iterator[tuple[str, dict]]:
        """Every document the API serves for this source: its list/bulk packages, then each process's."""
        yield from self.list_packages(ctx)
        for process in self.published().iterator(chunk_size=100):
            yield from self.process_packages(process, ctx)


_SOURCES: dict[str, OpenDataSource] = {}


def source_register(source: OpenDataSource) -> OpenDataSource:
    """Register a source (from an AppConfig.ready). A key already registered by another module is refused;
    the same module registering again (a second `ready()`) replaces its source."""
    if not source.key or not all(c.islower() or c == "-" for c in source.key):
        raise ValueError(f"open data source key must be {KEY_FORMAT}: {source.key!r}")
    known = _SOURCES.get(source.key)
    if known is not None and known.process_packages.__module__ != source.process_packages.__module__:
        raise RuntimeError(f"open data source {source.key!r} registered twice")
    _SOURCES[source.key] = source
    return source


def source_get(key: str) -> OpenDataSource:
    try:
        return _SOURCES[key]
    except KeyError:
        raise LookupError(f"no open data source {key!r} is registered") from None


def registered_sources() -> list[OpenDataSource]:
    """In registration order: tenders first (registered below), then the sector apps."""
    return list(_SOURCES.values())


# --- tenders (trading.ocds itself) ------------------------------------------------------------------


def _tender_packages(tender, ctx: Context) -> Labelled:
    """`GET /api/v1/ocds/releases?tender=<code>` and `GET /api/v1/ocds/records/<ocid>`."""
    releases = ctx.url(reverse("api-ocds-releases")) + f"?tender={tender.code}"
    record = ctx.url(reverse("api-ocds-record", args=[ocid(tender)]))
    return [(f"{tender.code} release package", packages.release_package([tender], uri=releases, ctx=ctx)),
            (f"{tender.code} record package", packages.record_package([tender], uri=record, ctx=ctx))]


def _tender_lists(ctx: Context) -> Labelled:
    """`GET /api/v1/ocds/bulk` (the streamed file holds the same package, tender by tender)."""
    bulk = ctx.url(reverse("api-ocds-bulk"))
    return [("tenders bulk release package", packages.release_package(packages.published_tenders(), uri=bulk,
                                                                       ctx=ctx))]


TENDERS = source_register(OpenDataSource(
    key="tender", noun="published tender", published=packages.published_tenders,
    process_packages=_tender_packages, list_packages=_tender_lists,
))
