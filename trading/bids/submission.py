"""Bid submission: streamed upload, header and signature checks, the atomic deadline check, receipts.

`bid_upload` is the entry point of the upload endpoint. It works in two stages:

1. Outside any transaction, the request body is streamed into a temporary file in the
   envelope store while it is hashed (`sbe1.receive_envelope`: header parsed and
   validated, chunk lengths checked, size capped by the lot's `max_envelope_bytes`);
   memory use does not grow with the envelope size. The header is checked against
   the URL, the bidder, its registered key and the lot's opening key; the detached
   signature (ECDSA P-256 r||s over the envelope SHA-256) against the bidder's
   registered key. Nothing is decrypted: the server has no key that could.
2. `bid_store`, ONE transaction: lock the tender row, compare `trading.clock.deadline_now()` (the database's clock) with
   the deadline (refused when now >= deadline, 招标投标法 Art 28; 电子招标投标办法 Art 26),
   stage the file, create the Bid superseding the previous one, write the audit event
   (hashes only), sign the receipt (SPECS.md §1); the staged file is renamed to its final
   name (its SHA-256) when the transaction commits (storage.py, `after_commit`).

The upload facts (client IP, User-Agent, device fingerprint) feed the supervisors' collusion
signals (招标投标法实施条例 Art 40; supervision/collusion.py). The view passes them as received;
`upload_facts_clean` normalises them here (invalid IP → none, User-Agent truncated, a malformed
fingerprint dropped: never an error). They are personal data: stored on the Bid for supervisors,
and the audit event carries only `upload_facts_sha256`, a salted commitment to them.

So a bid committed always has received_at < bid_deadline, whatever the concurrency:
the bid_deadline step locks the same row to close the tender.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import sbe1
from accounts.policy import authorize, can
from audit.canonical import canonical_bytes
from audit.receipts import receipt_issue
from audit.sealed import sealed_record
from config.errors import DomainError, NotFoundError, RuleViolation, StateConflict
from trading import clock
from trading.bids import storage
from trading.bids.keys import active_org_key
from trading.deposits.services.refunds import deposit_refunds_schedule_after_withdrawal
from trading.models import (
    Bid,
    BidStatus,
    Lot,
    OpeningKey,
    RegisteredKey,
    Registration,
    RegistrationStatus,
    TenderStatus,
)
from trading.rules import DEADLINE_IS_FINAL
from trading.services.tender_status import lock_tender
from trading.visibility import identity_hash

RECEIPT_FIELDS = ("tender", "lot", "bidder", "envelope_sha256", "size", "received_at",
                  "receipt_id", "audit_origin", "audit_seq", "audit_leaf_hash")


class EnvelopeRejected(DomainError):
    status = 400
    code = "envelope_invalid"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


@dataclass(frozen=True)
class ReceivedUpload:
    path: Path
    header: sbe1.Header
    sha256: str
    size: int
    bidder_key: RegisteredKey
    opening_key: OpeningKey
    signature: str


USER_AGENT_MAX = 512
DEVICE_FINGERPRINT_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class UploadFacts:
    """Where an upload came from (normalised): for the collusion signals, supervisors only."""

    ip: str | None = None
    user_agent: str = ""
    device_fingerprint: str = ""


def _clean_ip(value) -> str | None:
    try:
        address = ipaddress.ip_address(str(value or "").strip().split("%", 1)[0])  # no IPv6 zone id
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
    return str(address)


def upload_facts_clean(*, upload_ip=None, user_agent=None, device_fingerprint=None) -> UploadFacts:
    """Normalise the facts a view received; anything malformed is dropped, never an error."""
    agent = "".join(ch for ch in str(user_agent or "") if unicodedata.category(ch) != "Cc").strip()
    device = str(device_fingerprint or "").strip()
    return UploadFacts(
        ip=_clean_ip(upload_ip),
        user_agent=agent[:USER_AGENT_MAX],
        device_fingerprint=device if DEVICE_FINGERPRINT_RE.fullmatch(device) else "",
    )


def upload_facts_sha256(bid: Bid) -> str:
    """The commitment written in the bid's audit event: SHA-256 of the canonical JSON of the facts and
    the bid's random salt. Without the salt (supervisors only) it cannot be brute-forced back to an IP."""
    return hashlib.sha256(canonical_bytes({
        "device_fingerprint": bid.device_fingerprint,
        "salt": bid.upload_facts_salt,
        "upload_ip": bid.upload_ip or "",
        "user_agent": bid.user_agent,
    })).hexdigest()


def _fmt(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S.%f %Z")


def _deadline_refusal(tender, now) -> RuleViolation:
    return RuleViolation(
        _("The bid was not completely received before the bid deadline %(t)s (received %(now)s): it is not "
          "accepted (%(src)s; 电子招标投标办法: a bid not uploaded by the deadline is not received).")
        % {"t": _fmt(tender.bid_deadline), "now": _fmt(now), "src": DEADLINE_IS_FINAL},
        code="deadline_passed",
    )


def _require_open(tender) -> None:
    if tender.status != TenderStatus.PUBLISHED:
        raise StateConflict(
            _("Tender %(code)s is %(status)s: bids are not accepted.")
            % {"code": tender.code, "status": tender.get_status_display()},
            code="not_open",
        )


def _registration(lot: Lot, org_id: int) -> Registration:
    registration = Registration.objects.filter(lot=lot, bidder_id=org_id, status=RegistrationStatus.REGISTERED).first()
    if registration is None:
        raise RuleViolation(
            _("Your organisation is not registered for lot %(n)s of tender %(code)s: register first.")
            % {"n": lot.number, "code": lot.tender.code},
            code="not_registered",
        )
    return registration


def upload_precheck(*, actor, lot: Lot, content_length: int | None, signature: str | None) -> Registration:
    """Cheap checks before the body is read (the authoritative deadline check is in `bid_store`)."""
    authorize(actor, "bid.submit", lot)
    tender = lot.tender
    now = clock.deadline_now()
    if now >= tender.bid_deadline:  # before the status: after the deadline step too (docs/api.md, one code)
        raise _deadline_refusal(tender, now)
    _require_open(tender)
    registration = _registration(lot, actor.organisation_id)
    if not signature:
        raise EnvelopeRejected(
            _("The detached signature is missing (header X-Envelope-Signature, base64 r||s; SPECS.md §1)."),
            code="signature_missing",
        )
    if content_length is None or content_length <= 0:
        raise DomainError(_("The upload needs a Content-Length."), code="length_required", status=411)
    if content_length > lot.max_envelope_bytes:
        raise TooLarge(
            _("The envelope is %(n)s bytes; lot %(lot)s accepts at most %(max)s bytes.")
            % {"n": content_length, "lot": lot.number, "max": lot.max_envelope_bytes}
        )
    if not hasattr(lot, "opening_key"):
        raise StateConflict(_("This lot has no opening key."), code="no_opening_key")
    return registration


def _sbe1_rejection(exc: sbe1.SBE1Error) -> EnvelopeRejected:
    if exc.code == "too_large":
        return TooLarge(_("The envelope is larger than this lot accepts: %(why)s") % {"why": exc.args[0]})
    return EnvelopeRejected(
        _("The envelope is not a valid SBE1 envelope: %(why)s (SPECS.md §1).") % {"why": exc.args[0]},
        code=f"envelope_{exc.code}" if not exc.code.startswith("envelope") else exc.code,
    )


def _mismatch(what: str, got: str, want: str, code: str) -> EnvelopeRejected:
    return EnvelopeRejected(
        _("The envelope header names %(what)s %(got)s, but this upload is for %(want)s.")
        % {"what": what, "got": got[:80], "want": want},
        code=code,
        fields={"header": [code]},
    )


def envelope_receive(
    *, actor, lot: Lot, stream: BinaryIO, sink: BinaryIO, path: Path, content_length: int, signature: str
) -> ReceivedUpload:
    """Stream the envelope to `sink` and check header and signature (no database writes)."""
    try:
        received = sbe1.receive_envelope(stream, sink, max_size=lot.max_envelope_bytes)
    except sbe1.SBE1Error as exc:
        raise _sbe1_rejection(exc) from None
    sink.flush()
    if received.size != content_length:
        raise EnvelopeRejected(
            _("The upload is incomplete: %(got)s of %(want)s bytes arrived.")
            % {"got": received.size, "want": content_length},
            code="incomplete_upload",
        )
    header = received.header
    tender = lot.tender
    if header.tender != str(tender.pk):
        raise _mismatch(_("tender"), header.tender, str(tender.pk), "header_tender_mismatch")
    if header.lot != str(lot.pk):
        raise _mismatch(_("lot"), header.lot, str(lot.pk), "header_lot_mismatch")
    if header.bidder != str(actor.organisation_id):
        raise _mismatch(_("bidder"), header.bidder, str(actor.organisation_id), "header_bidder_mismatch")
    bidder_key = active_org_key(actor.organisation_id, header.recipient("bidder").key_id)
    if bidder_key is None:
        raise EnvelopeRejected(
            _("The envelope's bidder key %(kid)s is not a registered, unrevoked key of your organisation.")
            % {"kid": header.recipient("bidder").key_id[:16] + "…"},
            code="header_bidder_key_unknown",
            fields={"header": ["header_bidder_key_unknown"]},
        )
    opening_key = lot.opening_key
    if header.recipient("opening").key_id != opening_key.key_id:
        raise EnvelopeRejected(
            _("The envelope is not sealed to this lot's opening key %(kid)s.") % {"kid": opening_key.key_id[:16] + "…"},
            code="header_opening_key_mismatch",
            fields={"header": ["header_opening_key_mismatch"]},
        )
    try:
        sbe1.verify_digest(bidder_key.public_spki, received.sha256, signature.strip())
    except sbe1.SignatureError as exc:
        raise EnvelopeRejected(
            _("The envelope signature does not verify with your organisation's registered key %(kid)s: %(why)s "
              "(the envelope may be tampered, truncated or re-ordered).")
            % {"kid": bidder_key.key_id[:16] + "…", "why": exc.args[0]},
            code="bad_signature",
        ) from None
    return ReceivedUpload(path, header, received.sha256.hex(), received.size, bidder_key, opening_key,
                          signature.strip())


def bid_upload(*, actor, lot: Lot, stream: BinaryIO, content_length: int | None, signature: str | None,
               upload_ip: str | None = None, user_agent: str | None = None,
               device_fingerprint: str | None = None):
    """The upload endpoint's service: pre-check, stream and verify, then `bid_store` atomically.

    `upload_ip`, `user_agent`, `device_fingerprint`: the upload facts as the view received them
    (the CLI and API clients may send no fingerprint); `bid_store` normalises and stores them."""
    upload_precheck(actor=actor, lot=lot, content_length=content_length, signature=signature)
    with storage.incoming_file() as (sink, path):
        received = envelope_receive(actor=actor, lot=lot, stream=stream, sink=sink, path=path,
                                    content_length=content_length, signature=signature)
        sink.close()
        return bid_store(actor=actor, lot=lot, upload=received, upload_ip=upload_ip, user_agent=user_agent,
                         device_fingerprint=device_fingerprint)


@transaction.atomic
def bid_store(*, actor, lot: Lot, upload: ReceivedUpload, upload_ip: str | None = None,
              user_agent: str | None = None, device_fingerprint: str | None = None) -> Bid:
    """Accept a verified upload: deadline check, storing, the Bid, the audit event and the receipt, atomically."""
    facts = upload_facts_clean(upload_ip=upload_ip, user_agent=user_agent, device_fingerprint=device_fingerprint)
    tender = lock_tender(lot.tender)
    now = clock.deadline_now()
    if now >= tender.bid_deadline:
        raise _deadline_refusal(tender, now)
    _require_open(tender)
    registration = _registration(lot, actor.organisation_id)
    name = storage.storage_name(upload.sha256)
    # Staged now, renamed to its final name only when this transaction commits (storage.py).
    staged = storage.stage(upload.path, upload.sha256)
    try:
        previous = Bid.objects.select_for_update().filter(lot=lot, bidder_id=actor.organisation_id,
                                                          status=BidStatus.ACTIVE).first()
        if previous is not None:
            previous.status = BidStatus.SUPERSEDED
            previous.save(update_fields=["status"])
        bid = Bid.objects.create(
            tender=tender, lot=lot, bidder_id=actor.organisation_id, registration=registration, submitted_by=actor,
            bidder_key=upload.bidder_key, opening_key=upload.opening_key, envelope_sha256=upload.sha256,
            size=upload.size, header_sha256=hashlib.sha256(upload.header.line).hexdigest(),
            chunk_size=upload.header.chunk_size, signature=upload.signature, storage_name=name, received_at=now,
            replaces=previous, audit_seq=0, receipt={},
            upload_ip=facts.ip, user_agent=facts.user_agent, device_fingerprint=facts.device_fingerprint,
            upload_facts_salt=secrets.token_hex(16),
        )
        # Sealed until the deadline: the bidder and the user appear only as identity hashes.
        event = sealed_record(
            tender=tender,
            actor="system",
            action="bid.replaced" if previous else "bid.submitted",
            obj=bid,
            data={
                "tender": tender.pk,
                "lot": lot.pk,
                "envelope_sha256": upload.sha256,
                "size": upload.size,
                "header_sha256": bid.header_sha256,
                "signature_sha256": hashlib.sha256(upload.signature.encode("ascii")).hexdigest(),
                "bidder_key_id": upload.bidder_key.key_id,
                "bidder_key_nonce": upload.bidder_key.commit_nonce,
                "opening_key_id": upload.opening_key.key_id,
                "received_at": now,
                "replaces": previous.pk if previous else None,
                "bidder_hash": identity_hash(tender, "org", actor.organisation_id),
                "actor_hash": identity_hash(tender, "user", actor.pk),
                # IP, User-Agent and device fingerprint are personal data: a salted commitment only.
                "upload_facts_sha256": upload_facts_sha256(bid),
            },
        )
        bid.audit_seq = event.seq
        bid.receipt = receipt_issue(event=event, payload=receipt_payload(bid), holder_org=actor.organisation)
        bid.save(update_fields=["audit_seq", "receipt"])
    except BaseException:
        staged.unlink(missing_ok=True)  # refused or failed: no row will refer to it
        raise
    sha = upload.sha256
    storage.after_commit(lambda: storage.store(staged, sha))
    return bid


def receipt_payload(bid: Bid) -> dict:
    """The receipt fields of SPECS.md §1 (ids as in the envelope header: decimal strings);
    `receipt_issue` adds receipt_id, audit_origin, audit_seq and audit_leaf_hash."""
    return {
        "tender": str(bid.tender_id),
        "lot": str(bid.lot_id),
        "bidder": str(bid.bidder_id),
        "envelope_sha256": bid.envelope_sha256,
        "size": bid.size,
        "received_at": bid.received_at,
    }


@transaction.atomic
def bid_withdraw(*, actor, bid: Bid) -> dict:
    """Withdraw a bid before the deadline (撤回); returns the signed withdrawal receipt."""
    authorize(actor, "bid.withdraw", bid)
    tender = lock_tender(bid.tender)
    bid = Bid.objects.select_for_update().get(pk=bid.pk)
    now = clock.deadline_now()
    if now >= tender.bid_deadline:
        raise RuleViolation(
            _("A bid can only be withdrawn before the bid deadline %(t)s (%(src)s).")
            % {"t": _fmt(tender.bid_deadline), "src": DEADLINE_IS_FINAL},
            code="deadline_passed",
        )
    if bid.status != BidStatus.ACTIVE:
        raise StateConflict(_("Only the current bid can be withdrawn."), code="not_active")
    bid.status = BidStatus.WITHDRAWN
    bid.withdrawn_at = now
    bid.save(update_fields=["status", "withdrawn_at"])
    deposit_refunds_schedule_after_withdrawal(registration=bid.registration, withdrawn_at=now)
    event = sealed_record(
        tender=tender,
        actor="system",
        action="bid.withdrawn",
        obj=bid,
        data={
            "tender": tender.pk,
            "lot": bid.lot_id,
            "envelope_sha256": bid.envelope_sha256,
            "withdrawn_at": now,
            "deposit_refund_scheduled": True,
            "bidder_hash": identity_hash(tender, "org", bid.bidder_id),
            "actor_hash": identity_hash(tender, "user", actor.pk),
        },
    )
    return receipt_issue(event=event, holder_org=bid.bidder, payload={
        "tender": str(bid.tender_id), "lot": str(bid.lot_id), "bidder": str(bid.bidder_id),
        "envelope_sha256": bid.envelope_sha256, "withdrawn_at": now, "withdrawn": True,
    })


# --- selectors ------------------------------------------------------------------------------


def bid_get(*, user, public_id) -> Bid:
    """The bid with this public id (UUID) if `user` may see it; 404 alike otherwise."""
    bid = Bid.objects.select_related("tender", "lot", "replaces").filter(public_id=public_id).first()
    if bid is None or not _can_view(user, bid):
        raise NotFoundError(_("No such bid."))
    return bid


def _can_view(user, bid) -> bool:
    return can(user, "bid.view", bid)


def bids_of_org(*, org_id: int, lot: Lot | None = None):
    qs = (Bid.objects.filter(bidder_id=org_id).select_related("tender", "lot", "replaces")
          .order_by("-received_at", "-pk"))
    if lot is not None:
        qs = qs.filter(lot=lot)
    return qs
