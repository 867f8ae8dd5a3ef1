"""Both evaluation methods on hand-computed examples (pure functions, no database)."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from trading.evaluation import ranking as r


def at(hh, mm):
    return datetime(2026, 11, 20, hh, mm, tzinfo=UTC)


def passes(*keys):
    return {k: r.Mark(True) for k in keys}


# --- qualification -------------------------------------------------------------------------------


def test_qualification_is_decided_by_a_strict_majority_and_keeps_the_reasons():
    bids = [r.BidFacts(1, D("100"), at(9, 0), "a" * 64), r.BidFacts(2, D("100"), at(9, 1), "b" * 64)]
    sheets = [
        r.Sheet(1, {1: r.Mark(True), 2: r.Mark(False, "No safety licence")}),
        r.Sheet(2, {1: r.Mark(True), 2: r.Mark(False, "No safety licence")}),
        r.Sheet(3, {1: r.Mark(False, "Late stamp"), 2: r.Mark(False, "Bond missing")}),
        r.Sheet(4, {1: r.Mark(False, "Late stamp"), 2: r.Mark(True)}),
        r.Sheet(5, {1: r.Mark(True), 2: r.Mark(True)}),
    ]
    q = r.qualification_results(bids, sheets)
    assert (q[1].passed, q[1].passes, q[1].fails, q[1].reasons) == (True, 3, 2, ())
    assert (q[2].passed, q[2].passes, q[2].fails) == (False, 2, 3)
    assert q[2].reasons == ("No safety licence", "Bond missing")  # de-duplicated, in sheet order


def test_a_missing_mark_is_an_error_not_a_silent_pass():
    bids = [r.BidFacts(1, D("100"), at(9, 0), "a" * 64)]
    with pytest.raises(r.RankingError):
        r.qualification_results(bids, [r.Sheet(1, {})])


# --- lowest evaluated price ----------------------------------------------------------------------------


def test_lowest_evaluated_price_ranks_qualified_bids_by_price_with_the_tie_break():
    a = r.BidFacts(1, D("980000.00"), at(9, 0), "cc" * 32, "A")
    b = r.BidFacts(2, D("950000.00"), at(9, 5), "aa" * 32, "B")
    c = r.BidFacts(3, D("950000.00"), at(8, 55), "bb" * 32, "C")  # same price as B, received earlier
    d = r.BidFacts(4, D("900000.00"), at(9, 10), "dd" * 32, "D")  # cheapest, but rejected
    e = r.BidFacts(5, D("1000000.00"), at(9, 20), "ee" * 32, "E")
    bids = [a, b, c, d, e]
    sheets = [
        r.Sheet(1, {**passes(1, 2, 3, 5), 4: r.Mark(False, "No valid safety production licence")}),
        r.Sheet(2, {**passes(1, 2, 3, 5), 4: r.Mark(False, "No valid safety production licence")}),
        r.Sheet(3, {**passes(2, 3, 5), 1: r.Mark(False, "Duration too long"), 4: r.Mark(False, "Bid bond missing")}),
        r.Sheet(4, {**passes(2, 3, 4, 5), 1: r.Mark(False, "Duration too long")}),
        r.Sheet(5, passes(1, 2, 3, 4, 5)),
    ]
    out = r.evaluate(method=r.LOWEST_EVALUATED_PRICE, bids=bids, sheets=sheets)
    # By hand: D fails (2 of 5 pass). Prices: C 950000 (08:55) = B 950000 (09:05) < A 980000 < E 1000000.
    assert [(x.rank, x.bid) for x in out.ranking] == [(1, 3), (2, 2), (3, 1), (4, 5)]
    assert [x.bid for x in out.candidates] == [3, 2, 1]  # at most 3 (实施条例 Art 53)
    assert [(q.bid, q.reasons) for q in out.rejected] == [
        (4, ("No valid safety production licence", "Bid bond missing"))
    ]


def test_same_price_and_same_receipt_time_fall_back_to_the_lower_envelope_hash():
    x = r.BidFacts(1, D("500.00"), at(9, 0), "f0" + "0" * 62)
    y = r.BidFacts(2, D("500.00"), at(9, 0), "0f" + "0" * 62)
    z = r.BidFacts(3, D("499.99"), at(10, 0), "ff" * 32)
    sheets = [r.Sheet(1, passes(1, 2, 3))]
    out = r.evaluate(method=r.LOWEST_EVALUATED_PRICE, bids=[x, y, z], sheets=sheets)
    assert [x.bid for x in out.ranking] == [3, 2, 1]


# --- comprehensive scoring ---------------------------------------------------------------------------------


PRICE30 = r.Criterion(10, "Price", D("30"), r.PRICE)
TECH50 = r.Criterion(11, "Technical proposal", D("50"))
COMM20 = r.Criterion(12, "Commercial terms", D("20"))


def scored(member, table):
    """table: {bid: (technical, commercial)}"""
    scores = {}
    for bid, (tech, comm) in table.items():
        scores[(bid, 11)] = D(tech)
        scores[(bid, 12)] = D(comm)
    return r.Sheet(member, passes(*table), scores)


def test_comprehensive_scoring_hand_computed():
    x = r.BidFacts(1, D("1000000.00"), at(9, 0), "aa" * 32, "X")
    y = r.BidFacts(2, D("1200000.00"), at(9, 1), "bb" * 32, "Y")
    z = r.BidFacts(3, D("1100000.00"), at(9, 2), "cc" * 32, "Z")
    sheets = [
        scored(1, {1: ("40", "15"), 2: ("45", "18"), 3: ("42", "16")}),
        scored(2, {1: ("38", "14"), 2: ("44", "17"), 3: ("43", "15")}),
        scored(3, {1: ("41", "16"), 2: ("46", "19"), 3: ("40", "17")}),
    ]
    out = r.evaluate(method=r.COMPREHENSIVE_SCORING, bids=[x, y, z], sheets=sheets, criteria=[PRICE30, TECH50, COMM20])
    # Price: reference 1,000,000 → X 30.00; Y 30 × 1.0/1.2 = 25.00; Z 30 × 1.0/1.1 = 27.2727… → 27.27.
    # Scored means: X (55 + 52 + 57)/3 = 54.666… → 54.67; Y (63 + 61 + 65)/3 = 63.00; Z (58 + 58 + 57)/3 → 57.67.
    # Totals: X 84.67, Y 88.00, Z 84.94 → Y, Z, X.
    got = {x.bid: (x.price_score, x.scored_mean, x.score) for x in out.ranking}
    assert got == {
        1: (D("30.00"), D("54.67"), D("84.67")),
        2: (D("25.00"), D("63.00"), D("88.00")),
        3: (D("27.27"), D("57.67"), D("84.94")),
    }
    assert [(x.rank, x.bid) for x in out.ranking] == [(1, 2), (2, 3), (3, 1)]
    assert dict(out.ranking[0].member_totals) == {1: D("63"), 2: D("61"), 3: D("65")}
    assert dict(out.ranking[0].criterion_means) == {11: D("45.00"), 12: D("18.00")}


def test_comprehensive_tie_goes_to_the_lower_price():
    price20 = r.Criterion(1, "Price", D("20"), r.PRICE)
    quality80 = r.Criterion(2, "Quality", D("80"))
    p1 = r.BidFacts(1, D("100.00"), at(9, 30), "ff" * 32)
    p2 = r.BidFacts(2, D("125.00"), at(9, 0), "00" * 32)
    sheet = r.Sheet(1, passes(1, 2), {(1, 2): D("60"), (2, 2): D("64")})
    out = r.evaluate(method=r.COMPREHENSIVE_SCORING, bids=[p1, p2], sheets=[sheet], criteria=[price20, quality80])
    # P1: 20.00 + 60 = 80.00; P2: 20 × 100/125 = 16.00 + 64 = 80.00 → tie → lower price P1.
    assert [(x.bid, x.score) for x in out.ranking] == [(1, D("80.00")), (2, D("80.00"))]


def test_the_mean_is_rounded_half_up():
    only = r.Criterion(1, "Quality", D("100"))
    bid = r.BidFacts(1, D("1"), at(9, 0), "aa" * 32)
    sheets = [r.Sheet(1, passes(1), {(1, 1): D("70.01")}), r.Sheet(2, passes(1), {(1, 1): D("70.00")})]
    out = r.evaluate(method=r.COMPREHENSIVE_SCORING, bids=[bid], sheets=sheets, criteria=[only])
    assert out.ranking[0].score == D("70.01")  # 70.005 half-up (banker's rounding would give 70.00)


def test_rejected_bids_are_not_ranked_and_do_not_set_the_reference_price():
    x = r.BidFacts(1, D("800.00"), at(9, 0), "aa" * 32)  # rejected: its low price must not be the reference
    y = r.BidFacts(2, D("1000.00"), at(9, 1), "bb" * 32)
    sheet = r.Sheet(1, {1: r.Mark(False, "Abnormally low price not explained"), 2: r.Mark(True)},
                    {(1, 11): D("1"), (1, 12): D("1"), (2, 11): D("40"), (2, 12): D("10")})
    out = r.evaluate(method=r.COMPREHENSIVE_SCORING, bids=[x, y], sheets=[sheet], criteria=[PRICE30, TECH50, COMM20])
    assert [(x.bid, x.price_score, x.score) for x in out.ranking] == [(2, D("30.00"), D("80.00"))]
    assert [q.bid for q in out.rejected] == [1]


@pytest.mark.parametrize(
    "criteria",
    [
        [],
        [r.Criterion(1, "Quality", D("90"))],
        [r.Criterion(1, "P", D("50"), r.PRICE), r.Criterion(2, "P2", D("50"), r.PRICE)],
        [r.Criterion(1, "A", D("110")), r.Criterion(2, "B", D("-10"))],
    ],
)
def test_bad_criteria_are_refused(criteria):
    with pytest.raises(r.RankingError):
        r.check_criteria(criteria)


def test_a_missing_score_or_one_out_of_range_is_refused():
    bid = r.BidFacts(1, D("1"), at(9, 0), "aa" * 32)
    crit = [r.Criterion(1, "Quality", D("100"))]
    with pytest.raises(r.RankingError):
        r.evaluate(method=r.COMPREHENSIVE_SCORING, bids=[bid], sheets=[r.Sheet(1, passes(1))], criteria=crit)
    with pytest.raises(r.RankingError):
        r.evaluate(method=r.COMPREHENSIVE_SCORING, bids=[bid], sheets=[r.Sheet(1, passes(1), {(1, 1): D("101")})],
                   criteria=crit)
