"""RFC 6962 Merkle tree algorithms (SPECS.md §2), free of Django.

Hashes are 32-byte `bytes`. Leaves are RFC 6962 leaf hashes (SHA-256(0x00 || data));
interior nodes are SHA-256(0x01 || left || right); the empty tree's root is SHA-256("").

Two ways to feed the tree:
- a list of leaf hashes (`root_from_leaves`, `inclusion_proof_from_leaves`, ...): the naive
  RFC 6962 §2.1 definitions, used by tests and small trees;
- a `NodeGetter` callback `get(level, index) -> hash` returning the hash of the *complete*
  subtree covering leaves [index * 2**level, (index + 1) * 2**level): `root`,
  `inclusion_proof`, `consistency_proof` only ask for O(log n) such nodes, so proofs at any
  size cost O(log n) lookups when complete subtrees are stored (audit.checkpoints keeps them).

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 (the algorithms Certificate
Transparency and C2SP tlog clients use). `CompactRange` folds leaves one by one into the
stack of complete subtree roots of a prefix, giving the root of every prefix in O(log n)
memory: streaming verification and incremental node storage both use it.

audit/verifier/ptrade_audit_verify.py holds a copy of this module's logic; keep them in step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeGetter = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof does not verify, or a request for one is out of range."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- Naive definitions over a list of leaf hashes (RFC 6962 §2.1) -----------------------

def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(root_from_leaves(leaves[:k]), root_from_leaves(leaves[k:]))


def inclusion_proof_from_leaves(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1, deepest sibling first."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ProofError(f"leaf index {index} outside a tree of size {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_proof_from_leaves(index, leaves[:k]) + [root_from_leaves(leaves[k:])]
    return inclusion_proof_from_leaves(index - k, leaves[k:]) + [root_from_leaves(leaves[:k])]


def consistency_proof_from_leaves(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 §2.1.2."""
    n = len(leaves)
    if not 0 <= first <= n:
        raise ProofError(f"size {first} outside a tree of size {n}")
    if first in (0, n):
        return []

    def subproof(m: int, part: Sequence[bytes], complete: bool) -> list[bytes]:
        size = len(part)
        if m == size:
            return [] if complete else [root_from_leaves(part)]
        k = _split(size)
        if m <= k:
            return subproof(m, part[:k], complete) + [root_from_leaves(part[k:])]
        return subproof(m - k, part[k:], False) + [root_from_leaves(part[:k])]

    return subproof(first, leaves, True)


# --- The same over stored complete subtrees -----------------------------------------

def subtree_root(begin: int, end: int, get: NodeGetter) -> bytes:
    """MTH(D[begin:end]) for a range that RFC 6962 splitting produces: `begin` is a
    multiple of the smallest power of two >= end - begin (always true inside proofs)."""
    n = end - begin
    if n <= 0:
        raise ProofError("empty range")
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return get(level, begin >> level)
    k = _split(n)
    return node_hash(get(k.bit_length() - 1, begin // k), subtree_root(begin + k, end, get))


def root(size: int, get: NodeGetter) -> bytes:
    """MTH(D[0:size])."""
    if size < 0:
        raise ProofError("negative tree size")
    return EMPTY_ROOT if size == 0 else subtree_root(0, size, get)


def inclusion_proof(index: int, size: int, get: NodeGetter) -> list[bytes]:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} outside a tree of size {size}")
    path: list[bytes] = []
    begin, end, m = 0, size, index
    while end - begin > 1:
        k = _split(end - begin)
        if m < k:
            path.append(subtree_root(begin + k, end, get))
            end = begin + k
        else:
            path.append(subtree_root(begin, begin + k, get))
            begin, m = begin + k, m - k
    path.reverse()
    return path


def consistency_proof(first: int, second: int, get: NodeGetter) -> list[bytes]:
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    path: list[bytes] = []
    begin, end, m, complete = 0, second, first, True
    while m != end - begin:
        k = _split(end - begin)
        if m <= k:
            path.append(subtree_root(begin + k, end, get))
            end = begin + k
        else:
            path.append(subtree_root(begin, begin + k, get))
            begin, m, complete = begin + k, m - k, False
    if not complete:
        path.append(subtree_root(begin, end, get))
    path.reverse()
    return path


def nodes_needed(compute: Callable[[NodeGetter], object]) -> set[tuple[int, int]]:
    """The (level, index) nodes that `compute(get)` asks for, so a store can fetch them in
    one query before the real computation."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return EMPTY_ROOT

    compute(record)
    return wanted


# --- Verification (RFC 9162 §2.1.3.2, §2.1.4.2) -----------------------------------------

def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} outside a tree of size {size}")
    _check_hash(leaf, "leaf hash")
    fn, sn, r = index, size - 1, bytes(leaf)
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}")
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     expected_root: bytes) -> None:
    """Raise ProofError unless `leaf` is at `index` in the tree of `size` with `expected_root`."""
    if root_from_inclusion_proof(index, size, leaf, proof) != expected_root:
        raise ProofError(f"inclusion proof of leaf {index} does not lead to the root of size {size}")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Raise ProofError unless the tree of size `first` is a prefix of the one of size `second`."""
    _check_hash(first_root, "first root")
    _check_hash(second_root, "second root")
    if not 0 <= first <= second:
        raise ProofError(f"sizes out of order: {first} > {second}")
    if first == 0 or first == second:
        if proof:
            raise ProofError("consistency proof must be empty for these sizes")
        if first == second and first_root != second_root:
            raise ProofError(f"two different roots for the same size {first}")
        if first == 0 and first_root != EMPTY_ROOT:
            raise ProofError("root of size 0 is not the empty-tree hash")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != first_root:
        raise ProofError(f"consistency proof does not lead to the root of size {first}")
    if sr != second_root:
        raise ProofError(f"consistency proof does not lead to the root of size {second}")


# --- Streaming -----------------------------------------------------------------------

class CompactRange:
    """Roots of the complete subtrees covering leaves [0, size), largest first.

    `append` returns the interior nodes (level, index, hash) that became complete, so a
    store can keep them; `root()` is MTH of the prefix so far.
    """

    __slots__ = ("size", "_stack")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self._stack = list(hashes)
        if len(self._stack) != size.bit_count():
            raise ValueError(f"a compact range of size {size} has {size.bit_count()} hashes")

    @staticmethod
    def decompose(size: int) -> list[tuple[int, int]]:
        """(level, index) of the complete subtrees making up [0, size), largest first."""
        out, begin = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                out.append((level, begin >> level))
                begin += 1 << level
        return out

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        made: list[tuple[int, int, bytes]] = []
        index, h, level = self.size, leaf, 0
        while index & 1:
            h = node_hash(self._stack.pop(), h)
            level, index = level + 1, index >> 1
            made.append((level, index, h))
        self._stack.append(h)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h
