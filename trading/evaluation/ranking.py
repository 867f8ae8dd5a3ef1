"""Pure functions: committee results and rankings of both evaluation methods (no database).

Inputs are the bids as read out at the opening (`BidFacts`) and the members' submitted
score sheets (`Sheet`). Everything is `Decimal`; nothing here reads the clock or the ORM,
so the tests compute the expected results by hand.

Qualification (初步评审, both methods)
    Each member marks every bid pass or fail (a failure carries a reason). A bid passes
    when strictly more than half of the sheets pass it (少数服从多数; with an odd committee
    there is no tie; an even count — only possible while a seat is vacant, which the
    services refuse — would fail a tied bid). Reasons of the failing marks are kept,
    de-duplicated in sheet order, as the rejection reasons (招标投标法实施条例 Art 51).

Lowest evaluated price (经评审的最低投标价法)
    Qualified bids ranked by price, lowest first. The evaluated price is the read-out
    price: price corrections (价格折算) are not modelled.

Comprehensive scoring (综合评估法)
    Criteria are defined on the tender with maximum points that add up to 100.
    - A `price` criterion (at most one) is computed, not scored: the lowest qualified price
      is the reference (评标基准价) and scores the maximum; any other scores
      max × reference / price (政府采购货物和服务招标投标管理办法 Art 55), rounded half-up
      to 2 decimals.
    - Every other criterion is scored by each member from 0 to its maximum (2 decimals).
    - Committee score of a bid = price score + the arithmetic mean, over the submitted
      sheets, of each member's sum of scored criteria, the mean rounded half-up to 2
      decimals. The ranking uses this published, rounded number.

Tie-break (one rule for both methods, after the method's own key)
    1. comprehensive scoring: higher committee score first (then the rules below);
    2. lower price;
    3. earlier receipt time of the bid (the server's receipt, SPECS.md §1);
    4. lower SHA-256 of the envelope (hex, compared as text) — a deterministic last resort
       that no party can steer after submission;
    5. lower bid key (only if two envelopes had the same hash, which does not happen).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
LOWEST_EVALUATED_PRICE = "lowest_evaluated_price"
COMPREHENSIVE_SCORING = "comprehensive_scoring"
PRICE = "price"
SCORED = "scored"
CREDIT = "credit"  # points computed from credit records at the bid deadline (credit/, docs/credit.md)

TIE_BREAK = (
    "Ties are broken by: (comprehensive scoring: higher committee score first, then) lower price, "
    "then earlier receipt time of the bid, then lower envelope SHA-256 (hex)."
)


class RankingError(ValueError):
    """The inputs cannot be ranked (missing marks or scores, bad criteria)."""


def q2(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class BidFacts:
    key: int
    price: Decimal
    received_at: datetime
    envelope_sha256: str
    label: str = ""
    credit_points: Decimal | None = None  # frozen at the session's opening (EvaluationBid.credit)


@dataclass(frozen=True)
class Criterion:
    key: int
    name: str
    max_points: Decimal
    kind: str = SCORED


@dataclass(frozen=True)
class Mark:
    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class Sheet:
    """One member's submitted sheet: qualification marks per bid, scores per (bid, criterion)."""

    member: int
    marks: Mapping[int, Mark]
    scores: Mapping[tuple[int, int], Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Qualification:
    bid: int
    passed: bool
    passes: int
    fails: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Ranked:
    rank: int
    bid: int
    price: Decimal
    score: Decimal | None = None
    price_score: Decimal | None = None
    scored_mean: Decimal | None = None
    member_totals: tuple[tuple[int, Decimal], ...] = ()
    criterion_means: tuple[tuple[int, Decimal], ...] = ()
    credit_score: Decimal | None = None


# --- qualification ---------------------------------------------------------------------------------


def qualification_results(bids: Sequence[BidFacts], sheets: Sequence[Sheet]) -> dict[int, Qualification]:
    """Majority of the sheets decides pass/fail of every bid."""
    if not sheets:
        raise RankingError("no submitted sheets")
    results: dict[int, Qualification] = {}
    for bid in bids:
        passes = fails = 0
        reasons: list[str] = []
        for sheet in sheets:
            mark = sheet.marks.get(bid.key)
            if mark is None:
                raise RankingError(f"sheet of member {sheet.member} has no qualification mark for bid {bid.key}")
            if mark.passed:
                passes += 1
            else:
                fails += 1
                reason = mark.reason.strip()
                if reason and reason not in reasons:
                    reasons.append(reason)
        passed = passes * 2 > len(sheets)
        results[bid.key] = Qualification(bid.key, passed, passes, fails, tuple(reasons) if not passed else ())
    return results


# --- tie-break -------------------------------------------------------------------------------------


def _tail(bid: BidFacts) -> tuple:
    return (bid.price, bid.received_at, bid.envelope_sha256, bid.key)


def _numbered(ordered: Iterable[tuple[BidFacts, dict]]) -> list[Ranked]:
    return [Ranked(rank=i, bid=bid.key, price=bid.price, **extra) for i, (bid, extra) in enumerate(ordered, 1)]


# --- lowest evaluated price -------------------------------------------------------------------------


def rank_lowest_price(bids: Sequence[BidFacts], qualified: Mapping[int, Qualification]) -> list[Ranked]:
    """Qualified bids, lowest price first, then the tie-break."""
    eligible = [b for b in bids if qualified[b.key].passed]
    return _numbered((b, {}) for b in sorted(eligible, key=_tail))


# --- comprehensive scoring --------------------------------------------------------------------------


def check_criteria(criteria: Sequence[Criterion]) -> None:
    """Maximum points add up to 100; at most one price criterion; every maximum positive."""
    if not criteria:
        raise RankingError("comprehensive scoring needs criteria")
    if sum((c.max_points for c in criteria), Decimal(0)) != Decimal(100):
        raise RankingError("the criteria's maximum points must add up to 100")
    if sum(1 for c in criteria if c.kind == PRICE) > 1:
        raise RankingError("at most one price criterion")
    if sum(1 for c in criteria if c.kind == CREDIT) > 1:
        raise RankingError("at most one credit criterion")
    if any(c.max_points <= 0 for c in criteria):
        raise RankingError("every criterion needs a positive maximum")
    if any(c.kind not in (PRICE, SCORED, CREDIT) for c in criteria):
        raise RankingError("criterion kind must be 'price', 'scored' or 'credit'")


def price_scores(eligible: Sequence[BidFacts], criterion: Criterion | None) -> dict[int, Decimal]:
    """Low-price-first formula: reference = lowest eligible price; score = max × reference / price."""
    if criterion is None or not eligible:
        return {b.key: Decimal(0) for b in eligible}
    reference = min(b.price for b in eligible)
    if reference <= 0:
        raise RankingError("prices must be positive")
    return {b.key: q2(criterion.max_points * reference / b.price) for b in eligible}


def rank_comprehensive(
    bids: Sequence[BidFacts],
    qualified: Mapping[int, Qualification],
    criteria: Sequence[Criterion],
    sheets: Sequence[Sheet],
) -> list[Ranked]:
    """Qualified bids, highest committee score first, then the tie-break."""
    check_criteria(criteria)
    if not sheets:
        raise RankingError("no submitted sheets")
    eligible = [b for b in bids if qualified[b.key].passed]
    price_criterion = next((c for c in criteria if c.kind == PRICE), None)
    scored = [c for c in criteria if c.kind == SCORED]
    prices = price_scores(eligible, price_criterion)
    credit_criterion = next((c for c in criteria if c.kind == CREDIT), None)
    rows: list[tuple[BidFacts, dict]] = []
    for bid in eligible:
        totals: list[tuple[int, Decimal]] = []
        per_criterion: dict[int, Decimal] = {c.key: Decimal(0) for c in scored}
        for sheet in sheets:
            total = Decimal(0)
            for c in scored:
                points = sheet.scores.get((bid.key, c.key))
                if points is None:
                    raise RankingError(f"member {sheet.member} did not score bid {bid.key} on criterion {c.key}")
                if points < 0 or points > c.max_points:
                    raise RankingError(f"score {points} outside 0..{c.max_points} for criterion {c.key}")
                total += points
                per_criterion[c.key] += points
            totals.append((sheet.member, total))
        mean = q2(sum((t for _, t in totals), Decimal(0)) / len(sheets))
        credit = None
        if credit_criterion is not None:
            if bid.credit_points is None:
                raise RankingError(f"bid {bid.key} has no credit points frozen at the opening")
            credit = q2(min(max(Decimal(bid.credit_points), Decimal(0)), credit_criterion.max_points))
        score = prices[bid.key] + mean + (credit or Decimal(0))
        rows.append(
            (
                bid,
                {
                    "score": score,
                    "price_score": prices[bid.key] if price_criterion else None,
                    "scored_mean": mean,
                    "member_totals": tuple(totals),
                    "criterion_means": tuple((k, q2(v / len(sheets))) for k, v in per_criterion.items()),
                    "credit_score": credit,
                },
            )
        )
    rows.sort(key=lambda row: (-row[1]["score"], *_tail(row[0])))
    return _numbered(rows)


# --- both -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    qualification: dict[int, Qualification]
    ranking: list[Ranked]
    candidates: list[Ranked]
    rejected: list[Qualification]


def evaluate(
    *,
    method: str,
    bids: Sequence[BidFacts],
    sheets: Sequence[Sheet],
    criteria: Sequence[Criterion] = (),
    max_candidates: int = 3,
) -> Outcome:
    """The committee's result: qualification, the full ranking and at most `max_candidates` candidates."""
    qualified = qualification_results(bids, sheets)
    if method == LOWEST_EVALUATED_PRICE:
        ranking = rank_lowest_price(bids, qualified)
    elif method == COMPREHENSIVE_SCORING:
        ranking = rank_comprehensive(bids, qualified, criteria, sheets)
    else:
        raise RankingError(f"unknown evaluation method {method!r}")
    rejected = [qualified[b.key] for b in bids if not qualified[b.key].passed]
    return Outcome(qualified, ranking, ranking[:max_candidates], rejected)
