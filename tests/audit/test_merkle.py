"""RFC 6962 algorithms (audit.merkle): reference vectors, stored-node proofs checked
against the naive definitions, and rejection of corrupted proofs."""

import hashlib
import random

import pytest

from audit import merkle

# Leaf *data* (hex) of the RFC 6962 / Certificate Transparency test tree and its roots.
LEAF_DATA = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
VECTOR_LEAVES = [merkle.leaf_hash(bytes.fromhex(d)) for d in LEAF_DATA]


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"event {i}".encode()) for i in range(n)]


def _getter(leaves: list[bytes]):
    """A node store backed by the naive definition; counts lookups."""
    calls = []

    def get(level: int, index: int) -> bytes:
        calls.append((level, index))
        begin, end = index << level, (index + 1) << level
        assert end <= len(leaves), "asked for an incomplete subtree"
        return merkle.root_from_leaves(leaves[begin:end])

    get.calls = calls
    return get


def test_empty_tree_root_is_hash_of_nothing():
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.root_from_leaves([]) == merkle.EMPTY_ROOT
    assert merkle.root(0, _getter([])) == merkle.EMPTY_ROOT
    assert merkle.CompactRange().root() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size):
    expected = bytes.fromhex(ROOTS[size - 1])
    assert merkle.root_from_leaves(VECTOR_LEAVES[:size]) == expected
    assert merkle.root(size, _getter(VECTOR_LEAVES[:size])) == expected
    tree = merkle.CompactRange()
    for leaf in VECTOR_LEAVES[:size]:
        tree.append(leaf)
    assert tree.root() == expected


def test_reference_tree_proofs_verify():
    root8 = bytes.fromhex(ROOTS[7])
    for i in range(8):
        proof = merkle.inclusion_proof_from_leaves(i, VECTOR_LEAVES)
        merkle.verify_inclusion(i, 8, VECTOR_LEAVES[i], proof, root8)
    for m in range(1, 9):
        proof = merkle.consistency_proof_from_leaves(m, VECTOR_LEAVES)
        merkle.verify_consistency(m, 8, bytes.fromhex(ROOTS[m - 1]), root8, proof)


def _random_sizes(rng: random.Random) -> list[int]:
    return sorted({*range(1, 18), 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 1023, 1024, 1025,
                   *(rng.randrange(1, 3000) for _ in range(25))})


def test_inclusion_proofs_from_nodes_match_naive_at_random_sizes():
    rng = random.Random(6962)
    all_leaves = _leaves(3000)
    for size in _random_sizes(rng):
        leaves = all_leaves[:size]
        get = _getter(leaves)
        root = merkle.root(size, get)
        assert root == merkle.root_from_leaves(leaves)
        indexes = {0, size - 1, size // 2, *(rng.randrange(size) for _ in range(8))}
        for index in indexes:
            get.calls.clear()
            proof = merkle.inclusion_proof(index, size, get)
            assert proof == merkle.inclusion_proof_from_leaves(index, leaves), (index, size)
            assert len(get.calls) <= 2 * size.bit_length() + 2  # O(log n) lookups
            merkle.verify_inclusion(index, size, leaves[index], proof, root)


def test_consistency_proofs_from_nodes_match_naive_at_random_sizes():
    rng = random.Random(9162)
    all_leaves = _leaves(3000)
    for second in _random_sizes(rng):
        leaves = all_leaves[:second]
        get = _getter(leaves)
        second_root = merkle.root_from_leaves(leaves)
        firsts = {0, 1, second - 1, second, *(rng.randrange(second + 1) for _ in range(8))}
        for first in firsts:
            get.calls.clear()
            proof = merkle.consistency_proof(first, second, get)
            assert proof == merkle.consistency_proof_from_leaves(first, leaves), (first, second)
            assert len(get.calls) <= 2 * second.bit_length() + 2
            first_root = merkle.root_from_leaves(leaves[:first])
            merkle.verify_consistency(first, second, first_root, second_root, proof)


def test_compact_range_emits_every_complete_subtree_once():
    leaves = _leaves(77)
    tree, made = merkle.CompactRange(), []
    for i, leaf in enumerate(leaves):
        made.extend(tree.append(leaf))
        assert tree.root() == merkle.root_from_leaves(leaves[: i + 1])
    expected = {(level, index) for level in range(1, 7) for index in range(77 >> level)}
    assert len(made) == len(expected)
    assert {(level, index) for level, index, _ in made} == expected
    for level, index, value in made:
        assert value == merkle.root_from_leaves(leaves[index << level:(index + 1) << level])
    resumed = merkle.CompactRange(64, [merkle.root_from_leaves(leaves[:64])])
    for leaf in leaves[64:]:
        resumed.append(leaf)
    assert resumed.root() == tree.root()


def _flip(value: bytes, bit: int) -> bytes:
    raw = bytearray(value)
    raw[bit // 8] ^= 1 << (bit % 8)
    return bytes(raw)


def _inclusion_corruptions(index, size, leaf, proof, root, leaves):
    for i in range(len(proof)):
        for bit in (0, 255):
            bad = [*proof[:i], _flip(proof[i], bit), *proof[i + 1:]]
            yield f"bit {bit} of hash {i}", (index, size, leaf, bad, root)
    if proof:
        yield "last hash dropped", (index, size, leaf, proof[:-1], root)
        yield "first hash dropped", (index, size, leaf, proof[1:], root)
        if len(proof) > 1:
            yield "hashes reordered", (index, size, leaf, proof[::-1], root)
        yield "hash shortened", (index, size, leaf, [proof[0][:31], *proof[1:]], root)
    yield "extra hash appended", (index, size, leaf, [*proof, proof[-1] if proof else leaf], root)
    yield "extra hash prepended", (index, size, leaf, [leaf, *proof], root)
    yield "flipped leaf", (index, size, _flip(leaf, 7), proof, root)
    yield "wrong root", (index, size, leaf, proof, _flip(root, 100))
    if index + 1 < size:
        yield "next index", (index + 1, size, leaf, proof, root)
    if index > 0:
        yield "previous index", (index - 1, size, leaf, proof, root)
    yield "index out of range", (size, size, leaf, proof, root)
    yield "bigger tree", (index, size + 1, leaf, proof, merkle.root_from_leaves(leaves[: size + 1]))
    if size > index + 1:
        yield "smaller tree", (index, size - 1, leaf, proof, merkle.root_from_leaves(leaves[: size - 1]))


@pytest.mark.parametrize(("index", "size"), [(0, 1), (0, 2), (1, 2), (2, 3), (0, 7), (4, 5), (5, 8), (6, 7),
                                             (12, 13), (31, 33), (32, 33), (17, 100)])
def test_corrupted_inclusion_proofs_are_rejected(index, size):
    leaves = _leaves(size + 1)
    tree = leaves[:size]
    proof = merkle.inclusion_proof_from_leaves(index, tree)
    root = merkle.root_from_leaves(tree)
    merkle.verify_inclusion(index, size, tree[index], proof, root)
    for name, args in _inclusion_corruptions(index, size, tree[index], proof, root, leaves):
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(*args)
            pytest.fail(f"accepted a corrupted inclusion proof: {name}")


def _consistency_corruptions(first, second, first_root, second_root, proof, leaves):
    for i in range(len(proof)):
        for bit in (0, 255):
            yield f"bit {bit} of hash {i}", (first, second, first_root, second_root,
                                             [*proof[:i], _flip(proof[i], bit), *proof[i + 1:]])
    if proof:
        yield "last hash dropped", (first, second, first_root, second_root, proof[:-1])
        yield "first hash dropped", (first, second, first_root, second_root, proof[1:])
        if len(proof) > 1:
            yield "hashes reordered", (first, second, first_root, second_root, proof[::-1])
    yield "extra hash appended", (first, second, first_root, second_root, [*proof, second_root])
    yield "extra hash prepended", (first, second, first_root, second_root, [first_root, *proof])
    yield "roots swapped", (first, second, second_root, first_root, proof)
    yield "wrong first root", (first, second, _flip(first_root, 3), second_root, proof)
    yield "wrong second root", (first, second, first_root, _flip(second_root, 3), proof)
    yield "sizes swapped", (second, first, second_root, first_root, proof)
    for other in (first - 1, first + 1):
        if 0 < other < second:
            other_root = merkle.root_from_leaves(leaves[:other])
            yield f"first size {other}", (other, second, other_root, second_root, proof)
    bigger_root = merkle.root_from_leaves(leaves[: second + 1])
    yield "bigger second tree", (first, second + 1, first_root, bigger_root, proof)


@pytest.mark.parametrize(("first", "second"), [(1, 2), (1, 8), (2, 5), (3, 7), (4, 8), (4, 9), (6, 8), (7, 8),
                                               (5, 13), (16, 17), (31, 64), (33, 100)])
def test_corrupted_consistency_proofs_are_rejected(first, second):
    leaves = _leaves(second + 1)
    proof = merkle.consistency_proof_from_leaves(first, leaves[:second])
    first_root = merkle.root_from_leaves(leaves[:first])
    second_root = merkle.root_from_leaves(leaves[:second])
    merkle.verify_consistency(first, second, first_root, second_root, proof)
    for name, args in _consistency_corruptions(first, second, first_root, second_root, proof, leaves):
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*args)
            pytest.fail(f"accepted a corrupted consistency proof: {name}")


def test_degenerate_consistency_cases():
    leaves = _leaves(5)
    root5 = merkle.root_from_leaves(leaves)
    merkle.verify_consistency(5, 5, root5, root5, [])
    merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, root5, [])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(5, 5, root5, _flip(root5, 1), [])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(5, 5, root5, root5, [root5])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(0, 5, root5, root5, [])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(3, 5, merkle.root_from_leaves(leaves[:3]), root5, [])
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(5, 5, _getter(leaves))
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(6, 5, _getter(leaves))


def test_nodes_needed_lists_what_a_proof_reads():
    leaves = _leaves(1000)
    get = _getter(leaves)
    wanted = merkle.nodes_needed(lambda g: merkle.inclusion_proof(417, 1000, g))
    merkle.inclusion_proof(417, 1000, get)
    assert wanted == set(get.calls)
