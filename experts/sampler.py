"""The deterministic sampler of expert draws (algorithm "ptrade-expert-draw-v1", docs/experts.md).

Pure Python, no Django: an outsider can re-implement it from this page.

    K            = SHA-256( "ptrade-expert-draw-v1" || 0x00 || seed (32 bytes) || entropy (32 bytes) )
    block(i, j)  = SHA-256( K || uint32_be(i) || uint64_be(j) )          i = line index, j = 0, 1, 2, ...
    word stream  = the 64-bit big-endian words of block(i, 0), block(i, 1), ... in order (4 per block)
    uniform(n)   = draw words x until x < 2**64 - (2**64 mod n); return x mod n     (rejection: no bias)
    shuffle      = partial Fisher–Yates over A = the line's eligible expert ids sorted ascending:
                   step t = 0, 1, 2, ...:  r = uniform(N - t);  swap A[t], A[t + r];  output A[t]

`seed` is the server's secret (committed to by its SHA-256 before drawing), `entropy` the audit chain
head right after the commit event (32 bytes). Each line has its own stream, so redraws of one line
continue that line's shuffle where it stopped (`steps` outputs, `words` words consumed) whatever
the other lines do.

Pool digest: SHA-256 over, for each line in order, uint32_be(line index) || uint32_be(N) || the N sorted
ids as uint64_be. The stored snapshot is zlib of the same uint64_be id bytes.
"""

from __future__ import annotations

import hashlib
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Sequence

ALGORITHM = "ptrade-expert-draw-v1"
_TWO64 = 1 << 64


def stream_key(seed: bytes, entropy: bytes) -> bytes:
    if len(seed) != 32 or len(entropy) != 32:
        raise ValueError("seed and entropy must be 32 bytes each")
    return hashlib.sha256(ALGORITHM.encode() + b"\x00" + seed + entropy).digest()


class WordStream:
    """The 64-bit word stream of one line."""

    __slots__ = ("_key", "_line", "_buffer", "words")

    def __init__(self, key: bytes, line: int) -> None:
        self._key = key
        self._line = struct.pack(">I", line)
        self._buffer: list[int] = []
        self.words = 0

    def next_word(self) -> int:
        if not self._buffer:
            block = hashlib.sha256(self._key + self._line + struct.pack(">Q", self.words // 4)).digest()
            self._buffer = list(reversed(struct.unpack(">4Q", block)))[: 4 - self.words % 4]
        self.words += 1
        return self._buffer.pop()

    def uniform(self, n: int) -> int:
        """An unbiased integer in [0, n)."""
        if n <= 0:
            raise ValueError("n must be positive")
        limit = _TWO64 - (_TWO64 % n)
        while True:
            x = self.next_word()
            if x < limit:
                return x % n


class Shuffle:
    """Partial Fisher–Yates over one line's sorted eligible ids; `next()` is None once exhausted."""

    __slots__ = ("_a", "steps", "stream")

    def __init__(self, key: bytes, line: int, ids: Sequence[int]) -> None:
        self._a = list(ids)
        self.steps = 0
        self.stream = WordStream(key, line)

    @property
    def remaining(self) -> int:
        return len(self._a) - self.steps

    def next(self) -> int | None:
        a, t = self._a, self.steps
        if t >= len(a):
            return None
        r = self.stream.uniform(len(a) - t)
        a[t], a[t + r] = a[t + r], a[t]
        self.steps = t + 1
        return a[t]

    def advance(self, steps: int) -> None:
        """Replay the first `steps` outputs (to continue a stream saved as a position)."""
        while self.steps < steps:
            if self.next() is None:
                raise ValueError("stream position beyond the end of the pool")

    @property
    def words(self) -> int:
        return self.stream.words


def _be_bytes(ids: Sequence[int]) -> bytes:
    packed = array("Q", ids)
    if sys.byteorder == "little":
        packed.byteswap()
    return packed.tobytes()


def pool_digest(lines: Iterable[Sequence[int]]) -> str:
    h = hashlib.sha256()
    for index, ids in enumerate(lines):
        h.update(struct.pack(">II", index, len(ids)))
        h.update(_be_bytes(ids))
    return h.hexdigest()


def encode_ids(ids: Sequence[int]) -> bytes:
    """Storage form of a sorted id list: zlib of the ids as unsigned 64-bit big-endian integers."""
    return zlib.compress(_be_bytes(ids), 1)


def decode_ids(blob: bytes) -> list[int]:
    packed = array("Q")
    packed.frombytes(zlib.decompress(bytes(blob)))
    if sys.byteorder == "little":
        packed.byteswap()
    return packed.tolist()


def seed_commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()
