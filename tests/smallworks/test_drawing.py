"""The drawing: the platform's own recomputation, uniformity (chi-square, fixed seeds, as tests/experts),
and that the stored sequence is the sampler's output for the committed pool."""

from __future__ import annotations

import hashlib

import pytest

from experts import sampler
from smallworks.publication import RecordMismatch, drawing_public_record, record_recompute, sequence_for

CHI2_CRITICAL_0001 = {4: 18.467, 9: 27.877}


def _seed(i: int, label: bytes = b"seed") -> bytes:
    return hashlib.sha256(label + i.to_bytes(8, "big")).digest()


def _chi2(observed, expected) -> float:
    return sum((o - expected) ** 2 / expected for o in observed)


def test_drawn_enterprise_is_uniform_over_the_pool():
    """20,000 seeded drawings from 10 qualified enterprises: the drawn one is uniform (df = 9)."""
    pool = [17 + 5 * i for i in range(10)]
    counts = dict.fromkeys(pool, 0)
    for i in range(20_000):
        counts[sequence_for(_seed(i), _seed(i, b"entropy"), pool, 1)[0]] += 1
    assert _chi2(counts.values(), 2_000) < CHI2_CRITICAL_0001[9]


def test_each_position_of_the_reserve_list_is_uniform():
    """Drawn + 2 reserves from 5 (df = 4 for each position)."""
    pool = [3, 8, 9, 40, 41]
    for position in range(3):
        counts = dict.fromkeys(pool, 0)
        for i in range(10_000):
            counts[sequence_for(_seed(i, b"s"), _seed(i, b"e"), pool, 3)[position]] += 1
        assert _chi2(counts.values(), 2_000) < CHI2_CRITICAL_0001[4], position


def test_sequence_is_the_expert_samplers_line_zero():
    pool = [2, 4, 6, 8]
    shuffle = sampler.Shuffle(sampler.stream_key(_seed(1), _seed(2)), 0, pool)
    assert sequence_for(_seed(1), _seed(2), pool, 4) == [shuffle.next() for _ in range(4)]


def test_platform_recomputation_and_tamper(fp, reviewed):
    from smallworks.services import drawing_start

    drawing = drawing_start(actor=fp.agent, project=reviewed())
    record = drawing_public_record(drawing)
    assert record_recompute(record) == [p.organisation_id for p in drawing.picks.order_by("position")]
    bad = dict(record, sequence=list(reversed(record["sequence"])))
    with pytest.raises(RecordMismatch):
        record_recompute(bad)
    with pytest.raises(RecordMismatch, match="seed"):
        record_recompute(dict(record, seed="00" * 32))
