"""Keys: SPKI, key_id, strict public key loading, the password-protected key file."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import sbe1
from sbe1.canonical import dumps
from sbe1.keys import key_file_info

from .conftest import FAST_ITERATIONS


def test_spki_and_key_id(keys):
    der = sbe1.spki_der(keys.bidder)
    assert len(der) == 91 and der == sbe1.spki_der(keys.bidder.public_key())
    assert sbe1.key_id(keys.bidder) == hashlib.sha256(der).hexdigest()
    assert sbe1.key_id(der) == sbe1.key_id(sbe1.spki_b64(keys.bidder))
    loaded = sbe1.load_public_key(sbe1.spki_b64(keys.bidder))
    assert loaded.public_numbers() == keys.bidder.public_key().public_numbers()


def test_only_uncompressed_p256_spki_is_accepted(keys):
    compressed = keys.bidder.public_key().public_bytes(serialization.Encoding.DER,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    assert sbe1.load_public_key(compressed)  # the default DER is uncompressed
    point = keys.bidder.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.CompressedPoint)
    prefix = bytes.fromhex("3039301306072a8648ce3d020106082a8648ce3d030107032200")
    with pytest.raises(sbe1.InvalidKeyError):
        sbe1.load_public_key(prefix + point)
    with pytest.raises(sbe1.InvalidKeyError):
        sbe1.load_public_key(sbe1.spki_der(ec.generate_private_key(ec.SECP384R1())))
    with pytest.raises(sbe1.InvalidKeyError):
        sbe1.load_public_key(sbe1.spki_der(keys.bidder) + b"\x00")
    with pytest.raises(sbe1.FormatError):
        sbe1.load_public_key("not base64!")


def test_key_file_round_trip(keys):
    data = sbe1.write_key_file(keys.bidder, "correct horse", label="采购部 key", iterations=FAST_ITERATIONS)
    doc = json.loads(data)
    assert data == dumps(doc) + b"\n"
    assert set(doc) == {"v", "kind", "kdf", "iterations", "salt", "nonce", "alg", "ciphertext", "public_spki",
                        "key_id", "label"}
    assert (doc["kind"], doc["kdf"], doc["alg"], doc["iterations"]) == \
        ("ptrade-keyfile", "PBKDF2-SHA256", "A256GCM", FAST_ITERATIONS)
    assert len(base64.b64decode(doc["salt"])) == 16 and len(base64.b64decode(doc["nonce"])) == 12
    kf = sbe1.read_key_file(data, "correct horse")
    assert kf.private_key.private_numbers() == keys.bidder.private_numbers()
    assert kf.key_id == sbe1.key_id(keys.bidder) and kf.label == "采购部 key"
    info = key_file_info(data)
    assert info.public_spki == sbe1.spki_der(keys.bidder) and info.iterations == FAST_ITERATIONS


def test_default_iterations_and_nfc_password(keys):
    data = sbe1.write_key_file(keys.other, "Cafe\u0301")  # decomposed é
    assert json.loads(data)["iterations"] == 600_000
    assert sbe1.read_key_file(data, "Caf\u00e9").key_id == sbe1.key_id(keys.other)  # composed é


def test_wrong_password_and_tampering(keys):
    data = sbe1.write_key_file(keys.bidder, "pw", iterations=FAST_ITERATIONS)
    with pytest.raises(sbe1.KeyFileError) as info:
        sbe1.read_key_file(data, "PW")
    assert info.value.code == "keyfile_password"
    with pytest.raises(sbe1.KeyFileError):
        sbe1.read_key_file(data, "")
    doc = json.loads(data)
    other = dict(doc, public_spki=sbe1.spki_b64(keys.other), key_id=sbe1.key_id(keys.other))
    with pytest.raises(sbe1.KeyFileError) as info:  # key_id is the AAD: swapping the public part fails
        sbe1.read_key_file(json.dumps(other), "pw")
    assert info.value.code == "keyfile_password"
    for change in ({"key_id": sbe1.key_id(keys.other)}, {"iterations": 1000}, {"v": 2}, {"kdf": "scrypt"},
                   {"salt": "AAAA"}, {"kind": "other"}, {"extra": 1}):
        with pytest.raises(sbe1.KeyFileError):
            sbe1.read_key_file(json.dumps(dict(doc, **change)), "pw")
    with pytest.raises(sbe1.KeyFileError):
        sbe1.read_key_file(b"\x00not json", "pw")
    with pytest.raises(sbe1.KeyFileError):
        sbe1.write_key_file(keys.bidder, "pw", iterations=1000)
