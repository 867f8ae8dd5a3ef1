"""Open data for land-use-right and state-asset trades: one OCDS 1.1 release per trade (docs/ocds.md,
"Auctions: land-use rights and state assets"; docs/auctions.md, "Open data").

OCDS describes purchases; it has no sale. The mapping follows the schema's own convention for money
flowing the other way ("A negative value indicates that the award may involve payments from the supplier
to the buyer (commonly used in concession contracts)", OCDS 1.1.5 `Award.value`, `Tender.value`):
- the transferor (出让人 / 转让方), the public body whose land or asset is sold and who receives the price,
  is the `buyer` (party role "buyer", `release.buyer`): the public side of the contracting process;
- the agent (交易机构 / 代理) running the trade is the `procuringEntity`;
- the winning buyer (竞得人 / 受让方) is the `supplier` (roles "tenderer", "supplier");
- amounts paid to the public side are negative: `tender.value` = −start price, `awards[].value` = −price.

Only what the public result shows (`auctions.selectors.trade_public`) is published, and only when it is:
- before the decision: the notice (title, description, particulars, start price, increment, deposit,
  dates, transferor, agent, countdown); never the reserve, the buyers, their numbers or the bids;
- after the decision: the outcome, the price, the bid count, the reserve (unsealed at the end,
  国土资源部令第39号 Art 8–9*) and, when sold, the winner's name and bidder number. The losers, the
  number → name mapping of others, the bid history, deposits and the confirmation never enter.
The API serves a trade's release only once its result is published (`result_published_at`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse

from auctions.models import DECIDED_STATUSES, Buyer, Kind, Trade, TradeStatus
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

TENDER_STATUS = {
    TradeStatus.PUBLISHED: "active",
    TradeStatus.LISTING: "active",
    TradeStatus.TIMED: "active",
    TradeStatus.CLOSED: "active",
    TradeStatus.SOLD: "complete",
    TradeStatus.NOT_SOLD: "unsuccessful",
    TradeStatus.STOPPED: "unsuccessful",
}
METHOD_DETAILS = {
    Kind.LAND_LISTING: "国有建设用地使用权挂牌出让 (land-use right listing, 国土资源部令第39号): a sale, "
                       "not a purchase; amounts paid to the transferor are negative",
    Kind.LAND_AUCTION: "国有建设用地使用权拍卖出让 (land-use right auction, 国土资源部令第39号): a sale, "
                       "not a purchase; amounts paid to the transferor are negative",
    Kind.ASSET_TRANSFER: "企业国有资产转让 网络竞价 (state-owned asset transfer, online bidding, "
                         "国资委 财政部令第32号): a sale, not a purchase; amounts paid to the transferor are negative",
}
REASONS = {
    "reserve_met": "成交 (sold): the highest bid met the reserve",
    "below_reserve": "未成交 (not sold): the highest bid was below the reserve",
    "no_bids": "未成交 (not sold): no bid",
    "listing_ended": "未成交 (not sold): the listing ended without a quote at or above the reserve",
}


def ocid(trade: Trade) -> str:
    """`<OCDS_OCID_PREFIX>-<trade code>`; trade codes (LL/LA/AT-YYYY-NNNN) never equal tender codes
    (<type>-YYYYMMDD-NNNNN) or fixed-price codes, so the ocids of the platform's processes stay distinct."""
    return f"{ocid_prefix()}-{trade.code}"


def _party(org, roles: list[str]) -> dict:
    """Name and USCC only (the public result shows names; the USCC is the identifier of every platform
    export): no address, no contact point."""
    return {"id": party_id(org), "name": org.name,
            "identifier": {"scheme": "CN-USCC", "id": org.uscc, "legalName": org.name}, "roles": roles}


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f} CNY"


def _particulars(trade: Trade) -> str:
    parts = [f"{k}: {v}" for k, v in sorted((trade.particulars or {}).items()) if v not in (None, "")]
    return trade.title + (" — " + "; ".join(parts) if parts else "")


def _criteria(trade: Trade, decided: bool) -> str:
    text = (f"价高者得 (highest bid wins; of equal quotes the earlier): first bid ≥ the start price "
            f"{_yuan(trade.start_price)}, each later bid ≥ the current price + the increment "
            f"{_yuan(trade.increment)}; sold only at or above the reserve price (底价), sealed until the end "
            f"(国土资源部令第39号 Art 8–9*). Deposit (竞买保证金) {_yuan(trade.deposit_amount)}.")
    if decided and trade.reserve is not None:
        text += f" Reserve price (unsealed at the end): {_yuan(trade.reserve)}."
    return text


def _submission(trade: Trade) -> str:
    timed = (f"限时竞价 (timed round): each valid bid restarts a {trade.countdown_seconds} s countdown; "
             "the server's clock decides")
    if trade.kind == Kind.LAND_LISTING:
        return "挂牌 (listing): online quotes until the listing end; then, with two or more buyers wishing to go " \
               "on, " + timed
    return "online bidding under bidder numbers; " + timed


def _tender(trade: Trade, ctx: Context, decided: bool) -> dict:
    body: dict[str, Any] = {
        "id": trade.code,
        "title": trade.title,
        "status": TENDER_STATUS.get(trade.status, "active"),
        "procuringEntity": org_ref(trade.agent),
        "value": money(-trade.start_price),
        "procurementMethod": "open",
        "procurementMethodDetails": METHOD_DETAILS[trade.kind],
        "awardCriteria": "priceOnly",
        "awardCriteriaDetails": _criteria(trade, decided),
        "submissionMethod": ["electronicAuction"],
        "submissionMethodDetails": _submission(trade),
        "tenderPeriod": {"startDate": when(trade.starts_at)},
        "items": [{"id": "1", "description": _particulars(trade), "quantity": 1}],
    }
    if trade.notice_published_at:
        body["documents"] = [{
            "id": f"{trade.code}-notice", "documentType": "tenderNotice", "title": trade.title,
            "url": ctx.url(reverse("auctions:detail", args=[trade.public_id])),
            "datePublished": when(trade.notice_published_at), "format": "text/html", "language": "zh",
        }]
    if trade.description:
        body["description"] = trade.description
    end = trade.closed_at or trade.listing_ends_at
    if end is not None:
        body["tenderPeriod"]["endDate"] = when(end)
    return body


def _award(trade: Trade) -> dict:
    """The decision: an active award to the winner (sold) or an unsuccessful one (not sold, stopped)."""
    award: dict[str, Any] = {"id": f"{trade.code}-result", "title": f"{trade.code}: {trade.title}",
                             "date": when(trade.decided_at or trade.closed_at)}
    reserve = f" Reserve {_yuan(trade.reserve)}." if trade.reserve is not None else ""
    if trade.status == TradeStatus.SOLD and trade.holder_id:
        winner = Buyer.objects.select_related("organisation").get(pk=trade.holder_id)
        award.update(status="active", value=money(-trade.price), suppliers=[org_ref(winner.organisation)],
                     description=(f"{REASONS['reserve_met']}. Price {_yuan(trade.price)}, paid by the supplier "
                                  f"(bidder number {winner.number}) to the buyer (the transferor); "
                                  f"{trade.bid_count} valid bids.{reserve}"))
        return award
    if trade.status == TradeStatus.STOPPED:
        why = f"中止 (stopped): {trade.outcome_reason or 'too few buyers'}"
    else:
        why = REASONS.get(trade.outcome_reason, f"未成交 (not sold): {trade.outcome_reason}")
    highest = f" Highest bid {_yuan(trade.price)}." if trade.price is not None else ""
    award.update(status="unsuccessful", description=f"{why}; {trade.bid_count} valid bids.{highest}{reserve}")
    return award


def trade_release(trade: Trade, ctx: Context | None = None) -> dict[str, Any]:
    """The release of a published trade (notice stage before the decision, result after)."""
    ctx = ctx or default_context()
    decided = trade.status in DECIDED_STATUSES
    parties = [_party(trade.transferor, ["buyer"]), _party(trade.agent, ["procuringEntity"])]
    if trade.transferor_id == trade.agent_id:
        parties = [_party(trade.transferor, ["buyer", "procuringEntity"])]
    date = (trade.result_published_at or trade.decided_at) if decided else (trade.notice_published_at
                                                                             or trade.created_at)
    release: dict[str, Any] = {
        "ocid": ocid(trade), "id": "result" if decided else "notice", "date": when(date),
        "tag": ["award"] if decided else ["tender"], "initiationType": "tender", "language": "zh",
        "parties": parties, "buyer": org_ref(trade.transferor), "tender": _tender(trade, ctx, decided),
    }
    if decided:
        award = _award(trade)
        if award["status"] == "active":
            winner = Buyer.objects.select_related("organisation").get(pk=trade.holder_id).organisation
            parties.append(_party(winner, ["tenderer", "supplier"]))
        release["awards"] = [award]
    if trade.relisted_from_id:
        earlier = trade.relisted_from
        release["relatedProcesses"] = [{
            "id": "1", "relationship": ["unsuccessfulProcess"], "title": earlier.title, "scheme": "ocid",
            "identifier": ocid(earlier),
            "uri": ctx.url(reverse("api-auction-ocds", args=[earlier.public_id])),
        }]
    return release_finish(release)


def results_package(trades, *, uri: str, ctx: Context | None = None) -> dict[str, Any]:
    """A release package (OCDS 1.1 metadata of docs/ocds.md, no extension) of `trades`' releases."""
    ctx = ctx or default_context()
    return {**metadata(uri, ctx, extensions=()), "releases": [trade_release(t, ctx) for t in trades]}
