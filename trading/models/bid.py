"""Sealed bids (SPECS.md §1): registered public keys, lot opening keys and their shares, bids.

Only public material is stored: SPKI public keys, Shamir shares encrypted to the
custodians, and the envelopes exactly as uploaded (named by their SHA-256 and never
modified). No private key ever reaches the server.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class KeyHolder(models.TextChoices):
    ORGANISATION = "organisation", _("Bidder organisation")
    CUSTODIAN = "custodian", _("Key custodian")


def new_key_nonce() -> str:
    return secrets.token_hex(16)


class RegisteredKey(models.Model):
    """A P-256 public key (encryption and signing, one key pair as in sbe1/keys.py).

    Bidder organisations register organisation keys; custodians register user keys.
    `key_id` is the lowercase hex SHA-256 of the SPKI DER (SPECS.md §1).
    """

    holder = models.CharField(_("holder"), max_length=20, choices=KeyHolder.choices)
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="sbe1_keys"
    )
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="sbe1_keys")
    key_id = models.CharField(_("key id"), max_length=64, unique=True)
    public_spki = models.TextField(_("public key (SPKI DER, base64)"))
    label = models.CharField(_("label"), max_length=200, blank=True)
    registered_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("registered at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Organisation keys: the `sbe1_key.registered` event carries SHA-256 over key id and this nonce
    # instead of the key id, so that no bid event can be joined to it before the deadline
    # (docs/audit.md, "Sealed events"); bid openings and the revocation event publish the nonce.
    commit_nonce = models.CharField(max_length=32, blank=True, default=new_key_nonce)

    class Meta:
        ordering = ["-registered_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(holder="organisation", organisation__isnull=False, user__isnull=True))
                | (Q(holder="custodian", user__isnull=False, organisation__isnull=True)),
                name="registered_key_one_holder",
            )
        ]
        verbose_name = _("registered key")
        verbose_name_plural = _("registered keys")

    def __str__(self) -> str:
        return f"{self.holder} key {self.key_id[:16]}…"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class OpeningKey(models.Model):
    """A lot's opening key: public key plus the threshold; the private key was discarded."""

    lot = models.OneToOneField("trading.Lot", on_delete=models.PROTECT, related_name="opening_key")
    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="opening_keys")
    key_id = models.CharField(max_length=64, unique=True)
    public_spki = models.TextField()
    threshold = models.PositiveSmallIntegerField()
    share_count = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["lot_id"]

    def __str__(self) -> str:
        return f"opening key {self.key_id[:16]}… of lot {self.lot_id}"


class CustodianRole(models.TextChoices):
    AGENT = "agent", _("Tender agent custodian")
    SUPERVISOR = "supervisor", _("Supervisor custodian")
    PLATFORM = "platform", _("Platform custodian")


class KeyShare(models.Model):
    """One Shamir share of an opening key, encrypted to a custodian's registered key."""

    opening_key = models.ForeignKey(OpeningKey, on_delete=models.PROTECT, related_name="shares")
    x = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=20, choices=CustodianRole.choices)
    custodian = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="opening_key_shares")
    custodian_key = models.ForeignKey(RegisteredKey, on_delete=models.PROTECT, related_name="+")
    container = models.JSONField()  # the encrypted share container (sbe1.shamir), canonical JSON data
    container_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["opening_key_id", "x"]
        constraints = [
            models.UniqueConstraint(fields=["opening_key", "x"], name="unique_share_x"),
            models.UniqueConstraint(fields=["opening_key", "custodian"], name="unique_share_custodian"),
        ]

    def __str__(self) -> str:
        return f"share {self.x} of {self.opening_key_id} for {self.custodian_id}"


class BidStatus(models.TextChoices):
    ACTIVE = "active", _("Received")
    SUPERSEDED = "superseded", _("Replaced")
    WITHDRAWN = "withdrawn", _("Withdrawn before the deadline")


class Bid(models.Model):
    """One uploaded envelope (each upload is its own row, with its own upload facts). The envelope
    fields never change; only `status` moves (active → superseded by a later upload, or withdrawn)
    before the deadline."""

    # The id used in URLs and the API: random (UUID 4), so that it discloses neither how many
    # bids the platform holds nor when (docs/tendering.md, "Public identifiers"). The integer
    # primary key stays internal (foreign keys, audit objects).
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="bids")
    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="bids")
    registration = models.ForeignKey("trading.Registration", on_delete=models.PROTECT, related_name="bids")
    submitted_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    bidder_key = models.ForeignKey(RegisteredKey, on_delete=models.PROTECT, related_name="bids")
    opening_key = models.ForeignKey(OpeningKey, on_delete=models.PROTECT, related_name="bids")
    envelope_sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    header_sha256 = models.CharField(max_length=64)
    chunk_size = models.PositiveIntegerField()
    signature = models.CharField(max_length=200)
    storage_name = models.CharField(max_length=200)  # relative to the envelope store
    received_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=BidStatus.choices, default=BidStatus.ACTIVE, db_index=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    audit_seq = models.BigIntegerField()
    receipt = models.JSONField()  # {"receipt": {...}, "signature": ..., "key_id": ...} (audit.signing)
    # Upload facts for the collusion signals (招标投标法实施条例 Art 40; supervision/collusion.py). Personal data:
    # supervisors only, never in bidder/agent/public outputs; the audit event carries only a salted
    # SHA-256 commitment to them (`upload_facts_salt`, docs/opening.md "Submission").
    upload_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    device_fingerprint = models.CharField(max_length=128, blank=True, default="")  # [A-Za-z0-9_-] only
    upload_facts_salt = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["lot", "bidder"], condition=Q(status="active"), name="one_active_bid_per_bidder_lot"
            )
        ]
        verbose_name = _("bid")
        verbose_name_plural = _("bids")

    def __str__(self) -> str:
        return f"bid {self.pk} {self.envelope_sha256[:12]}… on lot {self.lot_id}"
