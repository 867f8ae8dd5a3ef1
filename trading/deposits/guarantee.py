"""Electronic guarantee letters (电子保函) that replace a cash deposit.

A letter is a JSON document:

    {"letter": {"v": 1,
                "letter_no": "<the issuer's number>",
                "issuer":      {"name": "...", "uscc": "<18-char code>"},
                "applicant":   {"name": "...", "uscc": "<the bidder's code>"},
                "beneficiary": {"name": "...", "uscc": "<the tenderer's code>"},
                "tender": "<tender id>", "lot": "<lot id>",
                "amount": "100000.00", "currency": "CNY",
                "valid_from": "<RFC 3339>", "valid_until": "<RFC 3339>",
                "issued_at": "<RFC 3339>"},
     "alg": "ES256" | "Ed25519",
     "key_id": "<lowercase hex SHA-256 of the issuer key's SubjectPublicKeyInfo DER>",
     "signature": "<base64>"}

The signature covers the canonical JSON bytes of `letter` (SPECS.md §2 rules: keys
sorted, no spaces, UTF-8, no floats): ECDSA P-256 with SHA-256 (the 64-byte r||s form
WebCrypto produces, or DER) or Ed25519. The platform trusts a key only if a platform
administrator registered it for that issuer (trusted keys are passed in here), and
the letter's `issuer.uscc` must be the one the key was registered for.

`check_letter` then checks the content against the lot: amount at least the required
deposit, beneficiary = the tenderer, applicant = the bidder, the same tender and lot,
and validity from no later than the check until at least the required date (the
bid validity period: 招标投标法实施条例 Art 26, a deposit's validity equals the bid's).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from audit.canonical import CanonicalJSONError, canonical_bytes
from trading.deposits.bankmsg import parse_timestamp
from trading.deposits.errors import DepositFormatError, SignatureRefused
from trading.deposits.money import parse_amount

ES256 = "ES256"
ED25519 = "Ed25519"
ALGORITHMS = (ES256, ED25519)
MAX_LETTER_BYTES = 64 * 1024
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class TrustedKey:
    """An issuer key the platform trusts."""

    key_id: str
    alg: str
    public_key: object  # EllipticCurvePublicKey (P-256) or Ed25519PublicKey
    issuer_uscc: str
    issuer_name: str = ""


@dataclass(frozen=True)
class Party:
    name: str
    uscc: str


@dataclass(frozen=True)
class Letter:
    letter_no: str
    issuer: Party
    applicant: Party
    beneficiary: Party
    tender: str
    lot: str
    amount: Decimal
    currency: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    issued_at: dt.datetime
    alg: str
    key_id: str
    sha256: str  # of the canonical letter bytes: what was signed
    content: dict  # the letter as signed (canonical JSON data)


# --- keys ------------------------------------------------------------------------------------

def load_public_key(data: bytes | str) -> tuple[object, str, str]:
    """(key, alg, key_id) of a P-256 or Ed25519 public key given as PEM, DER or base64 DER (SPKI)."""
    if isinstance(data, str):
        data = data.strip().encode("ascii", "replace")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        else:
            try:
                der = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                der = data
            key = serialization.load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise DepositFormatError(f"not a public key (SubjectPublicKeyInfo PEM/DER): {exc}",
                                 code="invalid_key") from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise DepositFormatError("ECDSA issuer keys must be on P-256", code="invalid_key")
        alg = ES256
    elif isinstance(key, ed25519.Ed25519PublicKey):
        alg = ED25519
    else:
        raise DepositFormatError("issuer keys are ECDSA P-256 or Ed25519", code="invalid_key")
    return key, alg, key_id(key)


def key_id(public_key) -> str:
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def spki_b64(public_key) -> str:
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(spki).decode("ascii")


# --- signing (issuers, tests and the demo) -----------------------------------------------------

def sign_letter(letter: dict, private_key) -> dict:
    """The signed document of `letter` by an issuer's private key (P-256 → ES256 r||s, Ed25519)."""
    message = canonical_bytes(letter)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(private_key.sign(message, ec.ECDSA(hashes.SHA256())))
        signature, alg = r.to_bytes(32, "big") + s.to_bytes(32, "big"), ES256
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        signature, alg = private_key.sign(message), ED25519
    else:
        raise TypeError("issuer keys are ECDSA P-256 or Ed25519")
    return {"letter": letter, "alg": alg, "key_id": key_id(private_key.public_key()),
            "signature": base64.b64encode(signature).decode("ascii")}


# --- verification ------------------------------------------------------------------------------

def _refuse_float(text: str):
    raise DepositFormatError("numbers with decimals are not accepted: money is a decimal string",
                             code="invalid_letter")


def _party(data: Mapping, key: str) -> Party:
    value = data.get(key)
    if not isinstance(value, Mapping) or not isinstance(value.get("uscc"), str) or not value.get("uscc"):
        raise DepositFormatError(f"letter.{key} must be an object with name and uscc", code="invalid_letter",
                                 field=key)
    name = value.get("name", "")
    return Party(name=name if isinstance(name, str) else "", uscc=value["uscc"].strip().upper())


def _id_text(data: Mapping, key: str) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise DepositFormatError(f"letter.{key} is required", code="invalid_letter", field=key)


def _signature_ok(trusted: TrustedKey, alg: str, signature: bytes, message: bytes) -> bool:
    try:
        if alg == ED25519:
            trusted.public_key.verify(signature, message)
            return True
        if len(signature) == 64:  # WebCrypto's r||s
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            if not (0 < r < _P256_ORDER and 0 < s < _P256_ORDER):
                return False
            signature = encode_dss_signature(r, s)
        trusted.public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False


def verify_letter(document: bytes | str | Mapping, trusted: Mapping[str, TrustedKey]) -> Letter:
    """Parse a signed letter and check its signature by a trusted issuer key.

    Raises SignatureRefused (unknown key, wrong algorithm, bad signature, issuer
    mismatch) or DepositFormatError (malformed)."""
    if isinstance(document, Mapping):
        data = document
    else:
        raw = document.encode("utf-8") if isinstance(document, str) else document
        if len(raw) > MAX_LETTER_BYTES:
            raise DepositFormatError("the guarantee letter is too large", code="invalid_letter")
        try:
            data = json.loads(raw.decode("utf-8-sig"), parse_float=_refuse_float)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DepositFormatError(f"the guarantee letter is not UTF-8 JSON: {exc}", code="invalid_letter") \
                from None
    if not isinstance(data, Mapping) or not isinstance(data.get("letter"), Mapping):
        raise DepositFormatError("a guarantee letter is {\"letter\": {...}, \"alg\", \"key_id\", \"signature\"}",
                                 code="invalid_letter")
    letter, alg, kid = data["letter"], data.get("alg"), data.get("key_id")
    if alg not in ALGORITHMS:
        raise SignatureRefused("alg must be ES256 or Ed25519", code="bad_algorithm")
    trusted_key = trusted.get(kid) if isinstance(kid, str) else None
    if trusted_key is None:
        raise SignatureRefused("the letter is signed by a key the platform does not trust", code="untrusted_issuer")
    if trusted_key.alg != alg:
        raise SignatureRefused(f"the trusted key {kid[:16]}… is a {trusted_key.alg} key, not {alg}",
                               code="bad_algorithm")
    try:
        signature = base64.b64decode(data.get("signature") or "", validate=True)
        message = canonical_bytes(dict(letter))
    except (binascii.Error, ValueError, TypeError, CanonicalJSONError) as exc:
        raise DepositFormatError(f"malformed letter or signature: {exc}", code="invalid_letter") from None
    if not _signature_ok(trusted_key, alg, signature, message):
        raise SignatureRefused("the guarantee letter's signature does not verify", code="bad_signature")

    issuer = _party(letter, "issuer")
    if issuer.uscc != trusted_key.issuer_uscc.upper():
        raise SignatureRefused("the letter names another issuer than the one its key was registered for",
                               code="issuer_mismatch")
    if letter.get("v") != 1:
        raise DepositFormatError("letter.v must be 1", code="invalid_letter", field="v")
    letter_no = letter.get("letter_no")
    if not isinstance(letter_no, str) or not letter_no.strip() or len(letter_no) > 64:
        raise DepositFormatError("letter.letter_no is required (at most 64 characters)", code="invalid_letter",
                                 field="letter_no")
    currency = letter.get("currency", "CNY")
    if currency != "CNY":
        raise DepositFormatError("only CNY guarantees are accepted", code="invalid_letter", field="currency")
    try:
        amount = parse_amount(letter.get("amount"), field="letter.amount")
        valid_from = parse_timestamp(letter.get("valid_from"), field="letter.valid_from")
        valid_until = parse_timestamp(letter.get("valid_until"), field="letter.valid_until")
        issued_at = parse_timestamp(letter.get("issued_at"), field="letter.issued_at")
    except DepositFormatError as exc:
        raise DepositFormatError(exc.message, code="invalid_letter", field=exc.field) from None
    if valid_until <= valid_from:
        raise DepositFormatError("letter.valid_until must be after valid_from", code="invalid_letter",
                                 field="valid_until")
    return Letter(
        letter_no=letter_no.strip(),
        issuer=issuer,
        applicant=_party(letter, "applicant"),
        beneficiary=_party(letter, "beneficiary"),
        tender=_id_text(letter, "tender"),
        lot=_id_text(letter, "lot"),
        amount=amount,
        currency=currency,
        valid_from=valid_from,
        valid_until=valid_until,
        issued_at=issued_at,
        alg=alg,
        key_id=kid,
        sha256=hashlib.sha256(message).hexdigest(),
        content=json.loads(message),
    )


@dataclass(frozen=True)
class LetterExpectation:
    amount: Decimal
    beneficiary_uscc: str
    applicant_uscc: str
    tender: str
    lot: str
    at: dt.datetime  # when the letter is checked: it must already be valid
    cover_until: dt.datetime  # it must stay valid at least until then


def check_letter(letter: Letter, expected: LetterExpectation) -> None:
    """Raise DepositFormatError (code names the failed check) unless the letter fits the lot."""
    if letter.tender != str(expected.tender) or letter.lot != str(expected.lot):
        raise DepositFormatError("the guarantee is for another tender or lot", code="wrong_lot", field="lot")
    if letter.beneficiary.uscc != expected.beneficiary_uscc.upper():
        raise DepositFormatError("the guarantee's beneficiary must be the tenderer", code="wrong_beneficiary",
                                 field="beneficiary")
    if letter.applicant.uscc != expected.applicant_uscc.upper():
        raise DepositFormatError("the guarantee's applicant must be the bidder", code="wrong_applicant",
                                 field="applicant")
    if letter.amount < expected.amount:
        raise DepositFormatError(
            f"the guarantee covers {letter.amount} CNY; the lot requires {expected.amount} CNY",
            code="amount_insufficient", field="amount")
    if letter.valid_from > expected.at:
        raise DepositFormatError("the guarantee is not valid yet", code="not_yet_valid", field="valid_from")
    if letter.valid_until < expected.cover_until:
        raise DepositFormatError(
            f"the guarantee expires {letter.valid_until.isoformat()}; it must stay valid until at least "
            f"{expected.cover_until.isoformat()} (the bid validity period, 招标投标法实施条例 Art 26)",
            code="validity_too_short", field="valid_until")
