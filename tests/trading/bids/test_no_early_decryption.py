"""The server cannot decrypt a bid before the deadline: it holds no key material that could.

The test gathers every value the platform stores — every field of every row in every
table, every file under MEDIA_ROOT and the var directory — decodes what looks like
base64 or hex, and tries each candidate as a DEK, as a P-256 private scalar or as a
serialized private key against the stored envelope's bidder and opening recipients,
and tries the stored (encrypted) shares as if they were released ones. Nothing opens
the bid; the same harness does open it with the bidder's real DEK (so it can tell).
Custodian shares are refused before the deadline even when correctly decrypted.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.apps import apps
from django.conf import settings

import sbe1
from config.errors import DomainError, RuleViolation
from tests.trading.sealed import dek_of, submit
from trading.bids import storage
from trading.models import Bid, KeyShare
from trading.opening import services as sv

pytestmark = pytest.mark.django_db

_B64 = re.compile(r"^[A-Za-z0-9+/=_-]{16,}$")
_HEX = re.compile(r"^[0-9a-fA-F]{32,}$")


def _walk(value, out: list) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _walk(k, out)
            _walk(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _walk(v, out)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.append(bytes(value))
    elif isinstance(value, str):
        out.append(value.encode())
        text = value.strip()
        if text.startswith(("{", "[")):
            with contextlib.suppress(ValueError):
                _walk(json.loads(text), out)
        for token in re.split(r"[\s\"',:;]+", text):
            if _B64.match(token):
                for decode in (base64.b64decode, base64.urlsafe_b64decode):
                    with contextlib.suppress(binascii.Error, ValueError):
                        out.append(decode(token + "=" * (-len(token) % 4)))
            if _HEX.match(token) and len(token) % 2 == 0:
                out.append(bytes.fromhex(token))


def stored_material() -> list[bytes]:
    out: list[bytes] = []
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.values_list(*fields):
            _walk(list(row), out)
    for root in {Path(settings.MEDIA_ROOT), Path(settings.VAR_DIR)}:
        for path in root.rglob("*"):
            if path.is_file() and path.stat().st_size < 4 * 1024 * 1024:
                data = path.read_bytes()
                out.append(data)
                with contextlib.suppress(UnicodeDecodeError):
                    _walk(data.decode("utf-8"), out)
    return list(dict.fromkeys(out))


def _private_keys(blob: bytes):
    if len(blob) == 32:
        scalar = int.from_bytes(blob, "big")
        if 0 < scalar < sbe1.shamir.ORDER:
            yield ec.derive_private_key(scalar, ec.SECP256R1())
    for load in (serialization.load_der_private_key, serialization.load_pem_private_key):
        try:
            key = load(blob, password=None)
        except (ValueError, TypeError):
            continue
        if isinstance(key, ec.EllipticCurvePrivateKey):
            yield key


def opens(envelope: bytes, blob: bytes) -> bool:
    header = sbe1.parse_header(envelope)
    if len(blob) == 32:
        try:
            sbe1.open_envelope_bytes(envelope, dek=blob)
            return True
        except sbe1.SBE1Error:
            pass
    for key in _private_keys(blob):
        for kind in ("bidder", "opening"):
            try:
                sbe1.unwrap_dek(header, key, kind)
                return True
            except sbe1.SBE1Error:
                pass
    return False


def test_no_stored_key_material_opens_a_bid_before_the_deadline(bidding):
    bidder = bidding.bidders[0]
    bid = submit(bidding.lot, bidder)
    stored = storage.path_of(Bid.objects.get(public_id=bid["id"]).storage_name).read_bytes()
    assert stored == bidder.envelopes[bid["id"]]
    material = stored_material()
    assert len(material) > 500  # it really looked at the database and the files
    tried = [blob for blob in material if opens(stored, blob)]
    assert tried == []
    # The harness can tell: the bidder's real DEK (which the server never had) opens it.
    real = base64.b64decode(dek_of(bidder, stored))
    assert real not in material and opens(stored, real)
    # The stored shares are encrypted: used as if released, they rebuild nothing.
    shares = list(KeyShare.objects.filter(opening_key__lot=bidding.lot))
    fake = [sbe1.ReleasedShare(sbe1.Share(s.x, int.from_bytes(base64.b64decode(s.container["wrapped"])[:32], "big")
                                          % sbe1.shamir.ORDER), s.opening_key.threshold, s.opening_key.key_id)
            for s in shares]
    for pair in itertools.combinations(fake, 2):
        with pytest.raises(sbe1.ShamirError):
            sbe1.combine_released(list(pair))


def test_shares_and_deks_are_refused_before_the_deadline(bidding):
    bidder = bidding.bidders[0]
    bid = submit(bidding.lot, bidder)
    for role in ("agent", "platform"):
        user, private = bidding.cast.custodians[role]
        share = KeyShare.objects.get(custodian=user)
        released = sbe1.decrypt_share(share.container, private).to_json_bytes().decode()
        with pytest.raises(RuleViolation) as refused:
            sv.share_submit(actor=user, tender=bidding.tender, share=released)
        assert refused.value.code == "before_deadline" and "电子招标投标办法" in refused.value.message
    with pytest.raises(DomainError) as refused:
        sv.bid_dek_release(actor=bidder.user, tender=bidding.tender, bid_id=bid["id"],
                           dek=dek_of(bidder, bidder.envelopes[bid["id"]]))
    assert refused.value.code in ("not_found", "opening_not_started")
