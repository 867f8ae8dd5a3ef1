"""The OCDS 1.1 mapping of a published tender: one release per stage (tender, award, contract).

Only what is public at the time of the export enters a release:
- a tender is exported once published (drafts never, nor a draft withdrawn before publication);
- bidders (`tender.tenderers`, `numberOfTenderers`, parties with role "tenderer") only once the
  opening is closed (bidder names are read out there, 招标投标法 Art 36); the registration and
  download lists never;
- bids (the platform's bids extension, `bids.details`: bidder, read-out price, receipt time, opening
  status) only once the opening is closed or failed, never before;
- awards only once the award notice is published; contracts once recorded;
- scores, sheets, committee members and deposits never.

Amendments (更正公告) are published as `tender.amendments` (rationale = the notice's title, description
= its text and the changed bid deadline with its previous value) in a release per amendment, tagged
`tenderAmendment`, whose `amendsReleaseID` names the release holding the values before it: the
tender as first published, then each amendment's release (docs/ocds.md).

Release ids are content-addressed: `<tender code>-<stage>-<12 hex of the SHA-256 of the release
without its id>`, so a release never changes under its id (a change makes a new release).
Amounts are JSON numbers (OCDS); the platform's decimals are converted exactly (integers, or
floats whose shortest representation equals the decimal; anything else is refused).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.urls import reverse

from trading.evaluation.models import Award, AwardStatus, Contract
from trading.models import EvaluationMethod, Notice, NoticeKind, ProcedureType, Tender, TenderStatus

DEFAULT_PREFIX = "ocds-XXXXXX"
CURRENCY = "CNY"

TENDER_STATUS = {
    TenderStatus.PUBLISHED: "active",
    TenderStatus.SUSPENDED: "active",
    TenderStatus.BIDDING_CLOSED: "active",
    TenderStatus.OPENING: "active",
    TenderStatus.EVALUATING: "active",
    TenderStatus.PUBLICITY: "active",
    TenderStatus.AWARDED: "complete",
    TenderStatus.CONTRACTED: "complete",
    TenderStatus.FAILED: "unsuccessful",
    TenderStatus.CANCELLED: "cancelled",
}
MAIN_CATEGORY = {ProcedureType.WORKS: "works", ProcedureType.GOODS: "goods", ProcedureType.SERVICES: "services"}
AWARD_CRITERIA = {
    EvaluationMethod.LOWEST_EVALUATED_PRICE: "priceOnly",
    EvaluationMethod.COMPREHENSIVE_SCORING: "ratedCriteria",
}
# An amendment or clarification becomes part of the bidding documents (招标投标法 Art 23), so an
# amendment notice is typed `biddingDocuments` (the closed-meaning `tenderNotice` is the tender notice
# only); a termination notice gives the reasons for cancelling (`cancellationDetails`).
NOTICE_DOCUMENT_TYPE = {
    NoticeKind.TENDER: "tenderNotice",
    NoticeKind.AMENDMENT: "biddingDocuments",
    NoticeKind.CLARIFICATION: "clarifications",
    NoticeKind.CANDIDATE_PUBLICITY: "evaluationReports",
    NoticeKind.FAILURE: "tenderNotice",
    NoticeKind.TERMINATION: "cancellationDetails",
    NoticeKind.AWARD_RESULT: "awardNotice",
}
# Opening status of a bid -> the bids extension's closed bidStatus codelist
# (trading/ocds_schema/extensions/bids/codelists/bidStatus.csv).
BID_STATUS = {"decrypted": "pending", "withdrawn": "withdrawn", "revoked": "disqualified"}
EXTENSIONS = ("bids",)
TENDER_STAGE_NOTICES = (
    NoticeKind.TENDER,
    NoticeKind.AMENDMENT,
    NoticeKind.CLARIFICATION,
    NoticeKind.CANDIDATE_PUBLICITY,
    NoticeKind.FAILURE,
    NoticeKind.TERMINATION,
)


def ocid_prefix() -> str:
    return str(getattr(settings, "OCDS_OCID_PREFIX", DEFAULT_PREFIX))


def ocid(tender: Tender) -> str:
    return f"{ocid_prefix()}-{tender.code}"


def number(value: Decimal) -> int | float:
    """An OCDS amount (a JSON number) from a platform decimal, exactly."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise ValueError(f"{value} cannot be written exactly as a JSON number")
    return as_float


def money(amount: Decimal, currency: str = CURRENCY) -> dict:
    return {"amount": number(amount), "currency": currency}


def when(moment: datetime) -> str:
    """RFC 3339 UTC with a Z suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment.microsecond == 0 else (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    )


def party_id(org) -> str:
    return f"CN-USCC-{org.uscc}"


def party(org, roles: list[str], *, contact: bool = False) -> dict:
    out = {
        "id": party_id(org),
        "name": org.name,
        "identifier": {"scheme": "CN-USCC", "id": org.uscc, "legalName": org.name},
        "roles": roles,
    }
    if org.address:
        out["address"] = {"streetAddress": org.address, "countryName": "中国"}
    if contact and (org.contact_name or org.contact_phone or org.contact_email):
        point = {"name": org.contact_name, "telephone": org.contact_phone, "email": org.contact_email}
        out["contactPoint"] = {k: v for k, v in point.items() if v}
    return out


def lot_item(lot, amount: Decimal) -> dict:
    """A lot (标段) as an OCDS item: id `lot-<number>`, quantity 1, its value as the unit value."""
    return {
        "id": f"lot-{lot.number}",
        "description": f"标段 {lot.number}: {lot.title}",
        "quantity": 1,
        "unit": {"name": "标段 (lot)", "value": money(amount)},
    }


def org_ref(org) -> dict:
    return {"id": party_id(org), "name": org.name}


@dataclass(frozen=True)
class Context:
    base_url: str  # absolute, with a trailing slash

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


def default_context() -> Context:
    base = getattr(settings, "OCDS_BASE_URL", "") or f"https://{settings.PLATFORM_NAME}/"
    return Context(base_url=base if base.endswith("/") else base + "/")


def request_context(request) -> Context:
    """The context of an API response: `OCDS_BASE_URL` when set, else the request's scheme and host."""
    if getattr(settings, "OCDS_BASE_URL", ""):
        return default_context()
    return Context(base_url=request.build_absolute_uri("/"))


# --- facts ---------------------------------------------------------------------------------------


def _bidders(tender: Tender):
    """Organisations whose bids were opened, or None while that list is sealed."""
    from accounts.models import Organisation
    from trading.evaluation import sources

    ids = sources.bidders_public(tender)
    if ids is None:
        return None
    return list(Organisation.objects.filter(pk__in=ids).order_by("name", "pk"))


def _notice_document(ctx: Context, notice: Notice) -> dict:
    return {
        "id": notice.content_sha256,
        "documentType": NOTICE_DOCUMENT_TYPE[notice.kind],
        "title": notice.title,
        "url": ctx.url(f"notices/{notice.pk}/"),
        "datePublished": when(notice.published_at),
        "format": "text/html",
        "language": "zh",
    }


def _tender_documents(ctx: Context, tender: Tender, at: datetime | None = None) -> list[dict]:
    """The tender's documents and tender-stage notices (as of `at`, or now)."""
    docs, seen = [], set()
    for doc in tender.documents.filter(superseded=False).order_by("name", "-version"):
        if doc.sha256 in seen or (at is not None and doc.uploaded_at > at):
            continue
        seen.add(doc.sha256)
        docs.append(
            {
                "id": doc.sha256,
                "documentType": "biddingDocuments",
                "title": doc.name,
                "description": f"SHA-256 {doc.sha256}, {doc.size} bytes, version {doc.version}",
                "url": ctx.url(f"api/v1/documents/{doc.pk}/download"),
                "datePublished": when(max(doc.uploaded_at, tender.published_at)),
                "format": doc.content_type,
            }
        )
    for notice in tender.notices.filter(kind__in=TENDER_STAGE_NOTICES).order_by("version"):
        if notice.content_sha256 not in seen and (at is None or notice.published_at <= at):
            seen.add(notice.content_sha256)
            docs.append(_notice_document(ctx, notice))
    return docs


def _deadline_moves(tender: Tender) -> dict[int, tuple[datetime, datetime]]:
    """notice id -> (previous bid deadline, new bid deadline), from the audit trail's
    `tender.deadline_moved` events (trading/services/notices.py `_move_deadline`)."""
    from audit.models import AuditEvent
    from audit.services import object_ref

    moves = {}
    for data in AuditEvent.objects.filter(action="tender.deadline_moved", object=object_ref(tender)).order_by(
            "seq").values_list("data", flat=True):
        moves[int(data["notice"])] = (datetime.fromisoformat(data["from"]), datetime.fromisoformat(data["to"]))
    return moves


def _deadline_at(tender: Tender, amendments: list[Notice], moves: dict, at: datetime) -> datetime:
    """The bid deadline in force at `at`: the current one, taken back through later amendments."""
    deadline = tender.bid_deadline
    for notice in reversed(amendments):
        if notice.published_at > at and notice.pk in moves:
            deadline = moves[notice.pk][0]
    return deadline


def _amendment(notice: Notice, moves: dict, amends: str, release_id: str | None) -> dict:
    description = notice.body
    if notice.pk in moves:
        before, after = moves[notice.pk]
        description += f"\n投标截止时间由 {when(before)} 改为 {when(after)}。"
    out = {"id": str(notice.version), "date": when(notice.published_at), "rationale": notice.title,
           "description": description, "amendsReleaseID": amends}
    if release_id:
        out["releaseID"] = release_id
    return out


def _common(tender: Tender, stage: str, date: datetime, tags: list[str]) -> dict:
    return {"ocid": ocid(tender), "id": stage, "date": when(date), "tag": tags, "initiationType": "tender",
            "language": "zh"}


def _parties(tender: Tender, *, bidders, suppliers: set[int]) -> list[dict]:
    parties = [party(tender.tenderer, ["buyer"], contact=True), party(tender.agent, ["procuringEntity"], contact=True)]
    if tender.tenderer_id == tender.agent_id:  # self-run tender: one party with both roles
        parties = [party(tender.tenderer, ["buyer", "procuringEntity"], contact=True)]
    for org in bidders or []:
        parties.append(party(org, ["tenderer", "supplier"] if org.pk in suppliers else ["tenderer"]))
    return parties


def release_finish(release: dict) -> dict:
    """Give the release its content-addressed id: `<ocid>-<stage>-<12 hex of the SHA-256 of the release
    without its id>` (the release's "id" holds the stage when called). Shared with auctions/opendata.py."""
    body = {k: v for k, v in release.items() if k != "id"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    release["id"] = f"{release['ocid']}-{release['id']}-{digest[:12]}"
    return release


# --- the stages -------------------------------------------------------------------------------------


def _bids(tender: Tender) -> list[dict] | None:
    """`bids.details` once the opening is closed or failed (read-out price and opening status of each
    opened bid); None before: nothing about bids is public until then."""
    from trading.models import BidOpening, BidOpeningStatus, Opening, OpeningState

    opening = Opening.objects.filter(tender=tender).first()
    if opening is None or opening.state not in (OpeningState.CLOSED, OpeningState.FAILED):
        return None
    details = []
    rows = (BidOpening.objects.filter(opening=opening).select_related("bid", "bid__bidder", "bid__lot")
            .order_by("bid__lot__number", "bid__received_at", "bid_id"))
    for row in rows:
        bid = row.bid
        entry = {"id": str(bid.public_id), "date": when(bid.received_at),
                 "description": f"标段 {bid.lot.number}: {bid.lot.title}", "tenderers": [org_ref(bid.bidder)]}
        status = "decrypted" if row.status == BidOpeningStatus.DECRYPTED else row.outcome
        if status in BID_STATUS:
            entry["status"] = BID_STATUS[status]
        if row.status == BidOpeningStatus.DECRYPTED:
            try:
                price = Decimal(str((row.readout or {}).get("price"))).quantize(Decimal("0.01"))
            except (ArithmeticError, ValueError):
                price = None
            if price is not None and price.is_finite():
                entry["value"] = money(price, str((row.readout or {}).get("currency") or CURRENCY))
        details.append(entry)
    return details


def _public_bid_ids(bid_pks: set[int]) -> dict[int, str]:
    """bid pk -> its `bids.details` id, for bids opened at the public opening."""
    from trading.models import Bid

    rows = Bid.objects.filter(pk__in=bid_pks, opening__isnull=False).values_list("pk", "public_id")
    return {pk: str(public_id) for pk, public_id in rows}


def _tender_body(tender: Tender, ctx: Context, *, at: datetime | None, bidders, amendments: list[dict]) -> dict:
    """The `tender` section now (at=None) or as it stood at `at` (before the deadline: nothing sealed)."""
    lots = list(tender.lots.order_by("number"))
    deadline = tender.bid_deadline if at is None else at_deadline(tender, at)
    body = {
        "id": tender.code,
        "title": tender.title,
        "status": TENDER_STATUS.get(tender.status, "active") if at is None else "active",
        "procuringEntity": org_ref(tender.agent),
        "value": money(sum((lot.estimated_price for lot in lots), Decimal(0))),
        "procurementMethod": "open",
        "procurementMethodDetails": "公开招标 (政府采购法)"
        if tender.procedure_type == ProcedureType.GOVERNMENT_PROCUREMENT
        else "公开招标 (招标投标法)",
        "awardCriteria": AWARD_CRITERIA.get(tender.evaluation_method, "priceOnly"),
        "awardCriteriaDetails": _criteria_details(tender),
        "submissionMethod": ["electronicSubmission"],
        "submissionMethodDetails": "SBE1 sealed electronic envelopes",
        "tenderPeriod": {"startDate": when(tender.documents_issued_at or tender.published_at),
                         "endDate": when(deadline)},
        # OCDS 1.1 core has no lots (that is an extension): one item per lot.
        "items": [lot_item(lot, lot.estimated_price) for lot in lots],
        "documents": _tender_documents(ctx, tender, at),
    }
    if tender.description:
        body["description"] = tender.description
    category = MAIN_CATEGORY.get(tender.procedure_type)
    if category:
        body["mainProcurementCategory"] = category
    if bidders is not None:
        body["numberOfTenderers"] = len(bidders)
        if bidders:
            body["tenderers"] = [org_ref(org) for org in bidders]
    if amendments:
        body["amendments"] = amendments
    return body


def at_deadline(tender: Tender, at: datetime) -> datetime:
    amendments = list(tender.notices.filter(kind=NoticeKind.AMENDMENT).order_by("version"))
    return _deadline_at(tender, amendments, _deadline_moves(tender), at)


def tender_releases(tender: Tender, ctx: Context) -> list[dict]:
    """The tender stage: without amendments one release (the tender now); with amendments the
    tender as first published, one `tenderAmendment` release per amendment and, when anything changed
    after the last amendment, the tender now (`tenderUpdate`)."""
    amendment_notices = list(tender.notices.filter(kind=NoticeKind.AMENDMENT).order_by("version"))
    moves = _deadline_moves(tender) if amendment_notices else {}
    out: list[dict] = []
    amendments: list[dict] = []
    if amendment_notices:
        first = _common(tender, "tender-published", tender.published_at, ["tender"])
        first["parties"] = _parties(tender, bidders=None, suppliers=set())
        first["buyer"] = org_ref(tender.tenderer)
        first["tender"] = _tender_body(tender, ctx, at=tender.published_at, bidders=None, amendments=[])
        out.append(release_finish(first))
        for notice in amendment_notices:
            if amendments:  # the previous amendment's values are in the previous release
                amendments[-1]["releaseID"] = out[-1]["id"]
            amendments = [*amendments, _amendment(notice, moves, out[-1]["id"], None)]
            release = _common(tender, f"tender-amendment-{notice.version}", notice.published_at,
                              ["tenderAmendment"])
            release["parties"] = _parties(tender, bidders=None, suppliers=set())
            release["buyer"] = org_ref(tender.tenderer)
            release["tender"] = _tender_body(tender, ctx, at=notice.published_at, bidders=None,
                                             amendments=[dict(a) for a in amendments])
            out.append(release_finish(release))
    now = tender_release(tender, ctx, amendments=amendments, amends=out[-1]["id"] if out else None)
    if not out or now["date"] > out[-1]["date"]:  # something changed after the last amendment
        out.append(now)
    return out


def tender_release(tender: Tender, ctx: Context, *, amendments: list[dict] | None = None,
                   amends: str | None = None) -> dict:
    """The tender now: status, bidders and bids once public, every amendment."""
    bidders = _bidders(tender)
    # Every notice may change the tender section (its status too: the award notice completes it).
    dates = [tender.published_at] + list(tender.notices.values_list("published_at", flat=True))
    from trading.evaluation import sources

    closed = sources.opening_closed_at(tender)
    if closed:
        dates.append(closed)
    amendments = [dict(a) for a in (amendments or [])]
    if amendments and amends:
        amendments[-1]["releaseID"] = amends
    tags = ["tender"] if not amendments else ["tenderUpdate"]
    release = _common(tender, "tender", max(dates), tags)
    suppliers = set(_awarded(tender).values_list("bid__bidder_id", flat=True))
    release["parties"] = _parties(tender, bidders=bidders, suppliers=suppliers)
    release["buyer"] = org_ref(tender.tenderer)
    release["tender"] = _tender_body(tender, ctx, at=None, bidders=bidders, amendments=amendments)
    bids = _bids(tender)
    if bids:
        release["bids"] = {"details": bids}
    return release_finish(release)


def _criteria_details(tender: Tender) -> str:
    from trading.evaluation.models import Criterion

    if tender.evaluation_method == EvaluationMethod.COMPREHENSIVE_SCORING:
        parts = [f"{c.name} {c.max_points}" for c in Criterion.objects.filter(tender=tender).order_by("number")]
        return "综合评估法 (comprehensive scoring): " + ("; ".join(parts) or "criteria in the tender documents")
    return "经评审的最低投标价法 (lowest evaluated price)"


def _awarded(tender: Tender):
    return Award.objects.filter(tender=tender).exclude(status=AwardStatus.DECLINED)


def _award_id(award: Award) -> str:
    return f"{award.lot.number}-{award.pk}"


def award_release(tender: Tender, ctx: Context) -> dict | None:
    awards = list(Award.objects.filter(tender=tender).select_related("lot", "bid", "bid__bidder", "notice")
                  .order_by("awarded_at", "pk"))
    if not awards:
        return None
    dates = [a.awarded_at for a in awards] + [a.declined_at for a in awards if a.declined_at]
    notices = {a.notice_id for a in awards}
    release = _common(tender, "award", max(dates), ["award", "awardUpdate"] if len(notices) > 1 else ["award"])
    suppliers = {a.bid.bidder_id for a in awards if a.status != AwardStatus.DECLINED}
    release["parties"] = _parties(tender, bidders=_bidders(tender) or [a.bid.bidder for a in awards],
                                  suppliers=suppliers)
    release["buyer"] = org_ref(tender.tenderer)
    public_bids = _public_bid_ids({a.bid.bid_ref for a in awards if a.bid.bid_ref})
    release["awards"] = [
        {
            "id": _award_id(a),
            "title": f"{tender.code} lot {a.lot.number}: {a.lot.title}",
            "status": "cancelled" if a.status == AwardStatus.DECLINED else "active",
            "date": when(a.awarded_at),
            "value": money(a.bid.price, a.bid.currency),
            "suppliers": [org_ref(a.bid.bidder)],
            "items": [lot_item(a.lot, a.bid.price)],
            "documents": [_notice_document(ctx, a.notice)],
            **({"relatedBids": [public_bids[a.bid.bid_ref]]} if a.bid.bid_ref in public_bids else {}),
        }
        for a in awards
    ]
    return release_finish(release)


def contract_release(tender: Tender, ctx: Context) -> dict | None:
    contracts = list(Contract.objects.filter(tender=tender).select_related("award", "award__lot", "award__bid__bidder")
                     .order_by("recorded_at", "pk"))
    if not contracts:
        return None
    release = _common(tender, "contract", max(c.recorded_at for c in contracts), ["contract"])
    release["parties"] = _parties(
        tender, bidders=_bidders(tender) or [c.award.bid.bidder for c in contracts],
        suppliers={c.award.bid.bidder_id for c in contracts},
    )
    release["buyer"] = org_ref(tender.tenderer)
    items = []
    for c in contracts:
        item = {
            "id": f"{c.award.lot.number}-{c.pk}",
            "awardID": _award_id(c.award),
            "title": c.title,
            "status": "active",
            "value": money(c.amount, c.currency),
            "dateSigned": when(c.signed_at),
            "items": [lot_item(c.award.lot, c.amount)],
        }
        if c.document_sha256:
            # The platform keeps the signed contract's SHA-256, not the file: the URL is the public
            # results page that lists the contract (the document itself is with the parties).
            item["documents"] = [{
                "id": c.document_sha256, "documentType": "contractSigned", "title": c.title,
                "description": f"签订的合同，SHA-256 {c.document_sha256}",
                "url": ctx.url(reverse("evaluation:tender_results", args=[tender.pk])) + "#contract-h",
                "datePublished": when(c.recorded_at), "language": "zh",
            }]
        items.append(item)
    release["contracts"] = items
    return release_finish(release)


def releases_of(tender: Tender, ctx: Context | None = None) -> list[dict]:
    """Every release of a published tender, oldest first; [] for a tender never published."""
    if tender.published_at is None or tender.status == TenderStatus.DRAFT:
        return []
    ctx = ctx or default_context()
    out = tender_releases(tender, ctx)
    for build in (award_release, contract_release):
        release = build(tender, ctx)
        if release is not None:
            out.append(release)
    return sorted(out, key=lambda r: r["date"])
