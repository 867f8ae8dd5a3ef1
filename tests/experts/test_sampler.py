"""The sampler: determinism, the documented algorithm, and uniformity (chi-square, fixed seeds)."""

import hashlib
import struct
import zlib

import pytest

from experts import sampler

# Chi-square critical values at p = 0.001 (so that a correct sampler fails with probability 1/1000 for a
# given seed; the seeds are fixed, so the test is deterministic and cannot flake).
CHI2_CRITICAL_0001 = {6: 22.458, 19: 43.820, 29: 59.703}


def _seed(i: int, label: bytes = b"seed") -> bytes:
    return hashlib.sha256(label + i.to_bytes(8, "big")).digest()


def _chi2(observed, expected) -> float:
    return sum((o - expected) ** 2 / expected for o in observed)


def test_stream_matches_the_documented_construction():
    seed, entropy = _seed(1), _seed(1, b"entropy")
    key = hashlib.sha256(b"ptrade-expert-draw-v1\x00" + seed + entropy).digest()
    assert sampler.stream_key(seed, entropy) == key
    stream = sampler.WordStream(key, 3)
    words = [stream.next_word() for _ in range(8)]
    expected = []
    for j in range(2):
        expected += struct.unpack(">4Q", hashlib.sha256(key + struct.pack(">I", 3) + struct.pack(">Q", j)).digest())
    assert words == expected and stream.words == 8


def test_reference_fisher_yates_reimplementation_agrees():
    """An outsider's straightforward implementation from docs/experts.md gives the same sequence."""
    seed, entropy = _seed(7), _seed(7, b"entropy")
    ids = list(range(100, 400, 3))

    def reference(seed, entropy, line, ids, k):
        key = hashlib.sha256(b"ptrade-expert-draw-v1\x00" + seed + entropy).digest()
        words, counter = [], 0

        def word():
            nonlocal counter
            if not words:
                words.extend(struct.unpack(">4Q", hashlib.sha256(
                    key + struct.pack(">I", line) + struct.pack(">Q", counter)).digest()))
                counter += 1
            return words.pop(0)

        def uniform(n):
            limit = 2**64 - (2**64 % n)
            while True:
                x = word()
                if x < limit:
                    return x % n

        a, out = sorted(ids), []
        for t in range(k):
            r = uniform(len(a) - t)
            a[t], a[t + r] = a[t + r], a[t]
            out.append(a[t])
        return out

    shuffle = sampler.Shuffle(sampler.stream_key(seed, entropy), 2, ids)
    assert [shuffle.next() for _ in range(25)] == reference(seed, entropy, 2, ids, 25)


def test_continuing_a_stream_equals_drawing_in_one_go():
    key = sampler.stream_key(_seed(3), _seed(3, b"e"))
    ids = list(range(1, 51))
    whole = sampler.Shuffle(key, 0, ids)
    first = [whole.next() for _ in range(12)]
    part = sampler.Shuffle(key, 0, ids)
    head = [part.next() for _ in range(5)]
    resumed = sampler.Shuffle(key, 0, ids)
    resumed.advance(part.steps)
    assert resumed.words == part.words
    assert head + [resumed.next() for _ in range(7)] == first


def test_shuffle_is_a_permutation_and_ends():
    key = sampler.stream_key(_seed(4), _seed(4, b"e"))
    shuffle = sampler.Shuffle(key, 1, [5, 9, 13])
    out = [shuffle.next() for _ in range(3)]
    assert sorted(out) == [5, 9, 13] and shuffle.next() is None


def test_pool_digest_and_encoding():
    lines = [[1, 2, 300000000000], [], [7]]
    data = (struct.pack(">II", 0, 3) + struct.pack(">3Q", 1, 2, 300000000000) + struct.pack(">II", 1, 0)
            + struct.pack(">II", 2, 1) + struct.pack(">Q", 7))
    assert sampler.pool_digest(lines) == hashlib.sha256(data).hexdigest()
    assert zlib.decompress(sampler.encode_ids([1, 2])) == struct.pack(">2Q", 1, 2)
    for ids in lines:
        assert sampler.decode_ids(sampler.encode_ids(ids)) == ids


def test_uniform_integers_are_uniform():
    stream = sampler.WordStream(sampler.stream_key(_seed(11), _seed(11, b"e")), 0)
    counts = [0] * 7
    for _ in range(70_000):
        counts[stream.uniform(7)] += 1
    assert _chi2(counts, 10_000) < CHI2_CRITICAL_0001[6]


def test_first_pick_is_uniform_over_the_eligible_pool():
    """Chi-square over 20,000 seeded draws of one expert from a pool of 20 (df = 19)."""
    ids = [1000 + 37 * i for i in range(20)]
    counts = dict.fromkeys(ids, 0)
    for i in range(20_000):
        shuffle = sampler.Shuffle(sampler.stream_key(_seed(i), _seed(i, b"entropy")), 0, ids)
        counts[shuffle.next()] += 1
    assert _chi2(counts.values(), 1_000) < CHI2_CRITICAL_0001[19]


def test_panels_are_uniform_over_the_pool():
    """Each of 30 experts is in a 5-expert panel with probability 1/6 (chi-square on membership, df = 29),
    and every position of the panel is uniform as well."""
    ids = list(range(1, 31))
    member = dict.fromkeys(ids, 0)
    third = dict.fromkeys(ids, 0)
    draws = 12_000
    for i in range(draws):
        shuffle = sampler.Shuffle(sampler.stream_key(_seed(i, b"p"), _seed(i, b"q")), 1, ids)
        panel = [shuffle.next() for _ in range(5)]
        assert len(set(panel)) == 5
        for expert in panel:
            member[expert] += 1
        third[panel[2]] += 1
    assert _chi2(member.values(), draws * 5 / 30) < CHI2_CRITICAL_0001[29]
    assert _chi2(third.values(), draws / 30) < CHI2_CRITICAL_0001[29]


def test_a_different_entropy_gives_a_different_draw():
    ids = list(range(1000))
    a = sampler.Shuffle(sampler.stream_key(_seed(1), _seed(1, b"x")), 0, ids)
    b = sampler.Shuffle(sampler.stream_key(_seed(1), _seed(2, b"x")), 0, ids)
    assert [a.next() for _ in range(5)] != [b.next() for _ in range(5)]


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        sampler.stream_key(b"short", bytes(32))
    with pytest.raises(ValueError):
        sampler.WordStream(bytes(32), 0).uniform(0)
