"""Release and record packages (OCDS 1.1 package metadata) and the streamed bulk file."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.conf import settings

from trading import clock
from trading.models import Tender, TenderStatus
from trading.ocds.mapping import EXTENSIONS, Context, default_context, ocid, ocid_prefix, releases_of, when
from trading.ocds.merge import compile_releases

VERSION = "1.1"


def published_tenders():
    """Every tender that was published (drafts and drafts withdrawn before publication never)."""
    return (
        Tender.objects.filter(published_at__isnull=False)
        .exclude(status=TenderStatus.DRAFT)
        .select_related("tenderer", "agent")
        .order_by("published_at", "pk")
    )


def tender_by_ocid(value: str) -> Tender | None:
    prefix = ocid_prefix() + "-"
    if not value.startswith(prefix):
        return None
    return published_tenders().filter(code=value[len(prefix):]).first()


# Defaults of the package metadata (docs/ocds.md, "Publisher, licence, publication policy").
DEFAULT_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
POLICY_PATH = "open-data/ocds/publication-policy"


def publisher_name() -> str:
    """`OCDS_PUBLISHER_NAME`, else the trading centre's name (`CENTRE_NAME`) — never a host name."""
    return str(getattr(settings, "OCDS_PUBLISHER_NAME", "") or settings.CENTRE_NAME)


def metadata(uri: str, ctx: Context, *, extensions: tuple[str, ...] = EXTENSIONS) -> dict:
    """Package metadata (docs/ocds.md); `extensions` names the platform extensions the releases use
    (none: the key is left out, an empty array would fail libcoveocds' empty-field check)."""
    out = {
        "uri": uri,
        "version": VERSION,
        "extensions": [ctx.url(f"open-data/ocds/extensions/{name}/extension.json") for name in extensions],
        "publishedDate": when(clock.now()),
        "publisher": {"name": publisher_name(), "uri": ctx.base_url},
        "license": str(getattr(settings, "OCDS_LICENSE", "") or DEFAULT_LICENSE),
        "publicationPolicy": str(getattr(settings, "OCDS_PUBLICATION_POLICY", "") or ctx.url(POLICY_PATH)),
    }
    if not extensions:
        del out["extensions"]
    return out


def release_package(tenders, *, uri: str, ctx: Context | None = None) -> dict:
    ctx = ctx or default_context()
    releases = [release for tender in tenders for release in releases_of(tender, ctx)]
    return {**metadata(uri, ctx), "releases": releases}


def record(tender: Tender, ctx: Context) -> dict | None:
    releases = releases_of(tender, ctx)
    if not releases:
        return None
    return {"ocid": ocid(tender), "releases": releases, "compiledRelease": compile_releases(releases)}


def record_package(tenders, *, uri: str, ctx: Context | None = None) -> dict:
    ctx = ctx or default_context()
    records = [r for r in (record(t, ctx) for t in tenders) if r is not None]
    return {**metadata(uri, ctx), "records": records}


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def stream_release_package(*, uri: str, ctx: Context | None = None, chunk: int = 100) -> Iterator[bytes]:
    """The release package of every published tender, written tender by tender (memory stays flat)."""
    ctx = ctx or default_context()
    head = _dumps(metadata(uri, ctx))
    yield (head[:-1] + ',"releases":[').encode()
    first = True
    for tender in published_tenders().iterator(chunk_size=chunk):
        for release in releases_of(tender, ctx):
            yield (("" if first else ",") + _dumps(release)).encode()
            first = False
    yield b"]}"
