"""Every legal number of land-use-right and state-asset trades, in one place.

Each number is a `trading.rules.LegalNumber` (value, unit, source shown in refusals,
comment), so periods share the tendering rules' semantics: exact spans from the
triggering instant, working days = Monday to Friday without a holiday calendar, every
period divided by the sandbox acceleration (never in production).

Sources (../shared/DOMAIN.md, "The platform's other sectors"; * = check the official text):
- 招标拍卖挂牌出让国有建设用地使用权规定 (国土资源部令第39号), "39号令" below;
- 企业国有资产交易监督管理办法 (国资委 财政部令第32号), "32号令" below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from trading.rules import COUNT, DAYS, WORKING_DAYS, LegalNumber
from trading.rules import room_acceleration as sandbox_room_acceleration

SECONDS = "seconds"


class TradeKind:
    LAND_LISTING = "land_listing"  # 挂牌
    LAND_AUCTION = "land_auction"  # 拍卖
    ASSET_TRANSFER = "asset_transfer"  # 企业国有资产转让, online bidding (网络竞价)


@dataclass(frozen=True)
class TradeRules:
    kind: str
    # Notice published → trade starts (listing start / auction start / disclosure end), minimum.
    notice_to_start: LegalNumber
    # Listing period (挂牌期), minimum; None where the kind has no listing.
    listing_period: LegalNumber | None
    # Fewer buyers than this with a booked deposit at the start: the trade stops.
    min_buyers: LegalNumber
    # Buyers who must still want to bid at the end of a listing for a timed round to follow.
    live_round_min_buyers: LegalNumber
    # The result is published within this period after the trade ends.
    result_publication: LegalNumber
    # Losers' deposits are refunded within this period after the trade ends.
    deposit_refund: LegalNumber


# 39号令 Art 10: the notice is published at least 20 days before the auction or listing starts.
LAND_NOTICE = LegalNumber(20, DAYS, "国土资源部令第39号 Art 10",
                          "notice at least 20 days before the auction or listing starts")
# 39号令 Art 17*: the listing period is at least 10 days.
LAND_LISTING_PERIOD = LegalNumber(10, DAYS, "国土资源部令第39号 Art 17*", "listing period at least 10 days")
# 39号令 Art 15*: an auction with fewer than 3 buyers is stopped.
LAND_AUCTION_MIN_BUYERS = LegalNumber(3, COUNT, "国土资源部令第39号 Art 15*",
                                      "fewer than 3 buyers: the auctioneer stops the auction")
# 39号令 Art 19*: two or more buyers still wanting to bid at the end of the listing → live round.
LAND_LIVE_ROUND = LegalNumber(2, COUNT, "国土资源部令第39号 Art 19*",
                              "two or more buyers still bidding at the end of the listing: live round")
# 39号令 Art 22*: result published within 10 working days.
LAND_RESULT = LegalNumber(10, WORKING_DAYS, "国土资源部令第39号 Art 22*", "result published within 10 working days")
# 39号令 Art 23*: the other buyers' deposits are refunded within 5 working days after the trade ends.
LAND_REFUND = LegalNumber(5, WORKING_DAYS, "国土资源部令第39号 Art 23*",
                          "losers' deposits refunded within 5 working days, without interest")
# 32号令 Art 13*: disclosure at least 20 working days.
ASSET_DISCLOSURE = LegalNumber(20, WORKING_DAYS, "国资委 财政部令第32号 Art 13*",
                               "transfer disclosure at least 20 working days")
# 32号令 Art 20–21*: two or more qualified transferees → open bidding (here: timed online bidding).
ASSET_MIN_BIDDING = LegalNumber(2, COUNT, "国资委 财政部令第32号 Art 20–21*",
                                "two or more qualified transferees: open online bidding")
# Not fixed by 32号令 for the result; the platform applies the land rule's 10 working days.
ASSET_RESULT = LegalNumber(10, WORKING_DAYS, "platform rule (after 国土资源部令第39号 Art 22*)",
                           "result published within 10 working days")
ASSET_REFUND = LegalNumber(5, WORKING_DAYS, "platform rule (after 国土资源部令第39号 Art 23*)",
                           "losers' deposits refunded within 5 working days")

# 限时竞价: each valid bid restarts a countdown; commonly 4–5 minutes* (DOMAIN.md). Default 300 s.
COUNTDOWN_DEFAULT = LegalNumber(300, SECONDS, "platform rule (DOMAIN.md: commonly 4–5 minutes*)",
                                "timed round countdown restarted by each valid bid")
COUNTDOWN_MIN_SECONDS = 30
COUNTDOWN_MAX_SECONDS = 3600
# Bids: strictly above the current price by at least the increment (39号令 Art 19*: ≥ current + increment).
BID_RULE_SOURCE = "国土资源部令第39号 Art 19*"
RESERVE_SOURCE = "国土资源部令第39号 Art 8–9*"

_RULES = {
    TradeKind.LAND_LISTING: TradeRules(TradeKind.LAND_LISTING, LAND_NOTICE, LAND_LISTING_PERIOD,
                                       LegalNumber(1, COUNT, "国土资源部令第39号 Art 19*",
                                                   "one quote ≥ reserve at the end of the listing sells"),
                                       LAND_LIVE_ROUND, LAND_RESULT, LAND_REFUND),
    TradeKind.LAND_AUCTION: TradeRules(TradeKind.LAND_AUCTION, LAND_NOTICE, None, LAND_AUCTION_MIN_BUYERS,
                                       LAND_AUCTION_MIN_BUYERS, LAND_RESULT, LAND_REFUND),
    TradeKind.ASSET_TRANSFER: TradeRules(TradeKind.ASSET_TRANSFER, ASSET_DISCLOSURE, None,
                                         LegalNumber(1, COUNT, "国资委 财政部令第32号 Art 20–21*",
                                                     "one qualified transferee: sale at the start price"),
                                         ASSET_MIN_BIDDING, ASSET_RESULT, ASSET_REFUND),
}
KINDS = tuple(_RULES)


def rules_for(kind: str) -> TradeRules:
    try:
        return _RULES[kind]
    except KeyError:
        raise ValueError(f"unknown trade kind {kind!r}") from None


def room_acceleration() -> float:
    """The factor dividing a timed round's countdown: `AUCTION_ROOM_ACCELERATION` when set (a sandbox
    that accelerates legal days a lot can keep the countdown watchable, as demo_tender's room speed),
    else the sandbox's room factor (`SANDBOX_ROOM_ACCELERATION`, the opening room's). Anything but 1 is refused
    in production."""
    factor = float(getattr(settings, "AUCTION_ROOM_ACCELERATION", 0) or 0) or sandbox_room_acceleration()
    if factor != 1 and getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("AUCTION_ROOM_ACCELERATION cannot be set in production")
    if factor < 1:
        raise ImproperlyConfigured("AUCTION_ROOM_ACCELERATION must be 1 or more")
    return factor


def countdown_span(seconds: int) -> timedelta:
    """The countdown of a timed round, divided by the room acceleration (normally the sandbox's)."""
    return timedelta(seconds=seconds) / room_acceleration()


def default_countdown_seconds() -> int:
    return int(getattr(settings, "AUCTION_COUNTDOWN_SECONDS", COUNTDOWN_DEFAULT.value))


def result_due(kind: str, ended_at: datetime) -> datetime:
    return rules_for(kind).result_publication.after(ended_at)


def refund_due(kind: str, ended_at: datetime) -> datetime:
    return rules_for(kind).deposit_refund.after(ended_at)


def all_rules() -> list[tuple[str, str, LegalNumber]]:
    """(kind, name, number) of every rule, for docs and `manage.py` listings."""
    out = []
    for kind, r in _RULES.items():
        for name in ("notice_to_start", "listing_period", "min_buyers", "live_round_min_buyers",
                     "result_publication", "deposit_refund"):
            number = getattr(r, name)
            if number is not None:
                out.append((kind, name, number))
    out.append(("*", "countdown_default", COUNTDOWN_DEFAULT))
    return out
