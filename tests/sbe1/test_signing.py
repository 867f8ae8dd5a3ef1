"""Detached signatures: message = SHA-256(envelope), ECDSA P-256/SHA-256, 64-byte r||s, base64."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

import sbe1
from sbe1.signing import der_to_raw, raw_to_der

ENVELOPE = b"SBE1\n" + b"pretend envelope bytes" * 1000


def test_sign_and_verify(keys):
    sig = sbe1.sign_envelope(keys.bidder, ENVELOPE)
    assert len(base64.b64decode(sig)) == 64
    digest = sbe1.verify_envelope(keys.bidder.public_key(), io.BytesIO(ENVELOPE), sig)
    assert digest == hashlib.sha256(ENVELOPE).digest()
    sbe1.verify_digest(sbe1.spki_b64(keys.bidder), digest, sig)


def test_signed_value_is_double_sha256(keys):
    """The ECDSA input is SHA-256(SHA-256(envelope)): checkable with a prehashed verify."""
    sig = base64.b64decode(sbe1.sign_envelope(keys.bidder, ENVELOPE))
    double = hashlib.sha256(hashlib.sha256(ENVELOPE).digest()).digest()
    keys.bidder.public_key().verify(raw_to_der(sig), double, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_rejections(keys):
    sig = sbe1.sign_envelope(keys.bidder, ENVELOPE)
    with pytest.raises(sbe1.SignatureError) as info:
        sbe1.verify_envelope(keys.bidder.public_key(), ENVELOPE + b"x", sig)
    assert info.value.code == "bad_signature"
    with pytest.raises(sbe1.SignatureError):
        sbe1.verify_envelope(keys.other.public_key(), ENVELOPE, sig)
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 1
    with pytest.raises(sbe1.SignatureError):
        sbe1.verify_envelope(keys.bidder.public_key(), ENVELOPE, base64.b64encode(bytes(raw)).decode())
    # signing the envelope itself (not its digest) is a different, rejected signature
    der = keys.bidder.sign(ENVELOPE, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(sbe1.SignatureError):
        sbe1.verify_envelope(keys.bidder.public_key(), ENVELOPE, base64.b64encode(der_to_raw(der)).decode())
    for bad in ("", "AAAA", base64.b64encode(bytes(64)).decode(), base64.b64encode(b"\xff" * 64).decode(),
                base64.b64encode(der).decode()):
        with pytest.raises(sbe1.SignatureError) as info:
            sbe1.verify_envelope(keys.bidder.public_key(), ENVELOPE, bad)
        assert info.value.code == "bad_signature_format"


def test_high_s_is_accepted_like_webcrypto(keys):
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    raw = base64.b64decode(sbe1.sign_envelope(keys.bidder, ENVELOPE))
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    flipped = base64.b64encode(r + (n - s).to_bytes(32, "big")).decode()
    sbe1.verify_envelope(keys.bidder.public_key(), ENVELOPE, flipped)
