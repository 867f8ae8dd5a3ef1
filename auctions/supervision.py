"""Supervision warnings of auctions (registered with supervision.live.warning_source).

- late result: the result of a decided trade not published by its due time (10 working days,
  国土资源部令第39号 Art 22*): yellow within SUPERVISION_YELLOW_DAYS before, red after;
- ended below reserve: a trade with bids that did not reach the reserve (yellow, until relisted or
  30 days old);
- shill-bidding pattern: in a trade's bid sequence two buyers who alternate at least
  AUCTION_SHILL_MIN_ALTERNATIONS times (default 4 consecutive bids A,B,A,B) and share a deposit payer
  account or an organisation address (red).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings

from auctions.models import Bid, Buyer, DepositArrival, Trade, TradeStatus
from supervision.live import RED, YELLOW, SupervisionWarning, due_level, warning_source, yellow_window

RECENT_DAYS = 30


def shill_pairs(trade: Trade) -> list[tuple[Buyer, Buyer, str, int]]:
    """(a, b, link, run) for pairs of buyers alternating in the bid sequence and linked by a payer
    account or an address; `run` is the longest alternating run of the pair."""
    minimum = int(getattr(settings, "AUCTION_SHILL_MIN_ALTERNATIONS", 4))
    bids = list(Bid.objects.filter(trade=trade).order_by("seq").values_list("buyer_id", flat=True))
    runs: dict[frozenset, int] = {}
    run, pair = 1, None
    for prev, cur in zip(bids, bids[1:], strict=False):
        this = frozenset((prev, cur)) if prev != cur else None
        if this is not None and this == pair:
            run += 1
        else:
            run, pair = (2, this) if this is not None else (1, None)
        if pair is not None:
            runs[pair] = max(runs.get(pair, 0), run)
    found = []
    for key, length in runs.items():
        if length < minimum:
            continue
        a, b = sorted(key)
        ba, bb = Buyer.objects.select_related("organisation").get(pk=a), Buyer.objects.select_related(
            "organisation").get(pk=b)
        payers_a = set(DepositArrival.objects.filter(buyer=ba).values_list("payer_account", flat=True))
        payers_b = set(DepositArrival.objects.filter(buyer=bb).values_list("payer_account", flat=True))
        addr_a = (ba.organisation.address or "").strip().lower()
        link = ""
        if payers_a & payers_b:
            link = "payer_account"
        elif addr_a and addr_a == (bb.organisation.address or "").strip().lower():
            link = "address"
        if link:
            found.append((ba, bb, link, length))
    return found


@warning_source("auctions")
def auction_warnings(now: datetime) -> Iterable[SupervisionWarning]:
    window = yellow_window()
    recent = now - timedelta(days=RECENT_DAYS)
    late = Trade.objects.filter(result_published_at__isnull=True, result_due_at__isnull=False,
                                result_due_at__lte=now + window).order_by("result_due_at", "pk")
    for trade in late:
        level = due_level(trade.result_due_at, now, window)
        if level:
            yield SupervisionWarning(key=f"auction_result:{trade.pk}", level=level, kind="auction_result_late",
                                     tender=None, tender_code=trade.code, subject=f"auctions.trade:{trade.pk}",
                                     due_at=trade.result_due_at, detail="国土资源部令第39号 Art 22*")
    below = Trade.objects.filter(status=TradeStatus.NOT_SOLD, outcome_reason="below_reserve",
                                 decided_at__gte=recent, relistings__isnull=True).order_by("decided_at", "pk")
    for trade in below:
        yield SupervisionWarning(key=f"auction_below_reserve:{trade.pk}", level=YELLOW,
                                 kind="auction_below_reserve", tender=None, tender_code=trade.code,
                                 subject=f"auctions.trade:{trade.pk}", due_at=trade.decided_at,
                                 detail=f"highest {trade.price} < reserve {trade.reserve}")
    active = Trade.objects.filter(status__in=(TradeStatus.LISTING, TradeStatus.TIMED, TradeStatus.CLOSED,
                                              TradeStatus.SOLD, TradeStatus.NOT_SOLD),
                                  bid_count__gte=4, created_at__gte=recent)
    for trade in active:
        for a, b, link, run in shill_pairs(trade):
            yield SupervisionWarning(key=f"auction_shill:{trade.pk}:{a.pk}:{b.pk}", level=RED,
                                     kind="auction_shill_pattern", tender=None, tender_code=trade.code,
                                     subject=f"auctions.trade:{trade.pk}", due_at=trade.ends_at or trade.closed_at,
                                     detail=f"numbers {a.number} and {b.number} alternate {run} bids; same {link}")
