"""Release and record packages (OCDS 1.1 package metadata) and the streamed bulk file."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.conf import settings

from trading import clock
from trading.models import Tender, TenderStatus
from trading.ocds.mapping import Context, default_context, ocid, ocid_prefix, releases_of, when
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


def metadata(uri: str, ctx: Context) -> dict:
    publisher = {"name": str(getattr(settings, "OCDS_PUBLISHER_NAME", "") or settings.PLATFORM_NAME),
                 "uri": ctx.base_url}
    out = {"uri": uri, "version": VERSION, "publishedDate": when(clock.now()), "publisher": publisher}
    license_url = getattr(settings, "OCDS_LICENSE", "")
    if license_url:
        out["license"] = license_url
    policy = getattr(settings, "OCDS_PUBLICATION_POLICY", "")
    if policy:
        out["publicationPolicy"] = policy
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
