"""Shamir sharing of the opening key over the P-256 group order; share containers."""

from __future__ import annotations

import itertools
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import sbe1
from sbe1.canonical import dumps
from sbe1.shamir import ORDER, Share, parse_released_share
from sbe1.wrap import unwrap_key


def test_order_is_the_p256_group_order():
    assert ORDER == 2**256 - 2**224 + 2**192 - 89188191075325690597107910205041859247
    assert pow(2, ORDER - 1, ORDER) == 1  # prime (Fermat witness; the order is a known prime)


@pytest.mark.parametrize(("k", "n"), [(2, 3), (3, 5), (2, 2), (5, 5)])
def test_any_k_shares_recover_and_k_minus_1_do_not(k, n, keys):
    secret = keys.opening.private_numbers().private_value
    shares = sbe1.split_secret(secret, k, n)
    assert [s.x for s in shares] == list(range(1, n + 1))
    for subset in itertools.combinations(shares, k):
        assert sbe1.combine_shares(list(subset), k) == secret
        assert sbe1.combine_shares(list(reversed(subset))) == secret
    assert sbe1.combine_shares(shares) == secret  # more than k also works
    for subset in itertools.combinations(shares, k - 1):
        assert sbe1.combine_shares(list(subset)) != secret
        with pytest.raises(sbe1.ShamirError) as info:
            sbe1.combine_shares(list(subset), k)
        assert info.value.code == "shamir_too_few"


def test_shares_are_randomized(keys):
    secret = keys.opening.private_numbers().private_value
    a, b = sbe1.split_secret(secret, 2, 3), sbe1.split_secret(secret, 2, 3)
    assert all(x.y != y.y for x, y in zip(a, b, strict=True))
    assert all(s.y != secret for s in a)


def test_validation():
    shares = sbe1.split_secret(12345, 2, 3)
    with pytest.raises(sbe1.ShamirError) as info:
        sbe1.combine_shares([shares[0], shares[0]])
    assert info.value.code == "shamir_duplicate"
    with pytest.raises(sbe1.ShamirError):
        sbe1.combine_shares([])
    with pytest.raises(sbe1.ShamirError):
        sbe1.combine_shares([Share(0, 1), shares[1]])
    with pytest.raises(sbe1.ShamirError):
        sbe1.combine_shares([Share(1, ORDER), shares[1]])
    for k, n in ((1, 3), (4, 3), (2, 256)):
        with pytest.raises(sbe1.ShamirError):
            sbe1.split_secret(5, k, n)
    for secret in (0, ORDER):
        with pytest.raises(sbe1.ShamirError):
            sbe1.split_secret(secret, 2, 3)


def test_opening_key_end_to_end(seal_bytes, keys, tmp_path):
    custodians = [sbe1.generate_private_key() for _ in range(3)]
    opening = sbe1.create_opening_key([c.public_key() for c in custodians], threshold=2)
    assert opening.key_id == sbe1.key_id(opening.public_spki) and len(opening.shares) == 3
    for i, container in enumerate(opening.shares, start=1):
        assert set(container) == {"v", "x", "k", "opening_key_id", "key_id", "epk", "nonce", "wrapped"}
        assert container["x"] == i and container["key_id"] == sbe1.key_id(custodians[i - 1])
    import io
    out = io.BytesIO()
    sbe1.seal(b"secret bid", out, tender="T", lot="L", bidder="B", bidder_key=keys.bidder.public_key(),
              opening_key=opening.public_spki)
    header = sbe1.parse_header(out.getvalue())
    dek = sbe1.unwrap_dek(header, keys.bidder)

    released = [sbe1.decrypt_share(dumps(c), k) for c, k in zip(opening.shares, custodians, strict=True)]
    # a custodian can only open its own share
    with pytest.raises(sbe1.DecryptionError) as info:
        sbe1.decrypt_share(opening.shares[0], custodians[1])
    assert info.value.code == "not_a_recipient"
    # released shares travel as canonical JSON
    wire = [parse_released_share(r.to_json_bytes()) for r in released]
    assert json.loads(released[0].to_json_bytes())["opening_key_id"] == opening.key_id
    for pair in itertools.combinations(wire, 2):
        key = sbe1.combine_released(list(pair))
        assert sbe1.unwrap_dek(header, key, "opening") == dek
        assert b"".join(sbe1.decrypt(io.BytesIO(out.getvalue()), dek)) == b"secret bid"

    # k-1 shares: a different scalar, refused against the opening key id, and it cannot unwrap
    wrong_scalar = sbe1.combine_shares([wire[0].share])
    wrong = ec.derive_private_key(wrong_scalar, ec.SECP256R1())
    assert sbe1.key_id(wrong) != opening.key_id
    with pytest.raises(sbe1.ShamirError) as info:
        sbe1.combine_released(wire[:1])
    assert info.value.code == "shamir_too_few"
    with pytest.raises(sbe1.ShamirError) as info:
        sbe1.combine_private_key([wire[0].share], opening_key_id=opening.key_id)
    assert info.value.code == "shamir_wrong_key"
    with pytest.raises(sbe1.DecryptionError):
        sbe1.unwrap_dek(header, wrong, "opening")
    entry = header.recipient("opening")
    with pytest.raises(sbe1.DecryptionError) as info:
        unwrap_key(wrong, entry.epk, entry.nonce, entry.wrapped_dek, aad_key_id=entry.key_id)
    assert info.value.code == "unwrap_failed"

    # a tampered x is caught by the key check
    bad = [sbe1.ReleasedShare(Share(3, wire[0].share.y), 2, opening.key_id), wire[1]]
    with pytest.raises(sbe1.ShamirError):
        sbe1.combine_released(bad)


def test_share_container_tampering(keys):
    custodian = sbe1.generate_private_key()
    share = sbe1.split_private_key(keys.opening, 2, 3)[0]
    okid = sbe1.key_id(keys.opening)
    container = sbe1.encrypt_share(share, custodian.public_key(), threshold=2, opening_key_id=okid)
    assert sbe1.decrypt_share(container, custodian).share == share
    wrapped = bytearray(__import__("base64").b64decode(container["wrapped"]))
    wrapped[0] ^= 1
    tampered = dict(container, wrapped=__import__("base64").b64encode(bytes(wrapped)).decode())
    with pytest.raises(sbe1.DecryptionError) as info:
        sbe1.decrypt_share(tampered, custodian)
    assert info.value.code == "unwrap_failed"
    for change in ({"v": 2}, {"x": 0}, {"k": 1}, {"opening_key_id": "x"}, {"extra": 1}, {"nonce": "AAAA"}):
        with pytest.raises(sbe1.FormatError):
            sbe1.decrypt_share(dict(container, **change), custodian)
