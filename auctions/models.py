"""Land-use-right listings and auctions, state-asset transfers (docs/auctions.md)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from auctions.rules import TradeKind


def _money(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, **kwargs)


class Kind(models.TextChoices):
    LAND_LISTING = TradeKind.LAND_LISTING, _("Land-use right listing (挂牌)")
    LAND_AUCTION = TradeKind.LAND_AUCTION, _("Land-use right auction (拍卖)")
    ASSET_TRANSFER = TradeKind.ASSET_TRANSFER, _("State-owned asset transfer (online bidding)")


class TradeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Notice published")
    LISTING = "listing", _("Listing period")
    TIMED = "timed", _("Timed bidding")
    CLOSED = "closed", _("Bidding closed, reserve sealed")
    SOLD = "sold", _("Sold")
    NOT_SOLD = "not_sold", _("Not sold")
    STOPPED = "stopped", _("Stopped")


BIDDING_STATUSES = (TradeStatus.LISTING, TradeStatus.TIMED)
DECIDED_STATUSES = (TradeStatus.SOLD, TradeStatus.NOT_SOLD, TradeStatus.STOPPED)


class Trade(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    # Parcel / asset particulars shown in the notice (location, area, use, term, …).
    particulars = models.JSONField(_("particulars"), default=dict, blank=True)
    transferor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("transferor"))
    agent = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("agent"))
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=TradeStatus.choices, default=TradeStatus.DRAFT,
                              db_index=True)
    start_price = _money(_("start price"))
    increment = _money(_("increment"))
    deposit_amount = _money(_("deposit"))
    countdown_seconds = models.PositiveIntegerField(_("countdown (seconds)"), default=300)
    starts_at = models.DateTimeField(_("starts at"))
    listing_ends_at = models.DateTimeField(_("listing ends at"), null=True, blank=True)
    notice_published_at = models.DateTimeField(_("notice published at"), null=True, blank=True)
    # The opening key of the sealed reserve (public half; the private half exists only as shares).
    opening_key_id = models.CharField(max_length=64, blank=True)
    opening_public_spki = models.TextField(blank=True)
    threshold = models.PositiveSmallIntegerField(default=2)
    reserve_sealed = models.JSONField(null=True, blank=True)
    reserve_sealed_sha256 = models.CharField(max_length=64, blank=True)
    reserve_sealed_at = models.DateTimeField(null=True, blank=True)
    reserve = _money(_("reserve price"), null=True, blank=True)  # set only when unsealed after the end
    reserve_opened_at = models.DateTimeField(null=True, blank=True)
    # The book: the highest bid and the running deadline (listing end or countdown end).
    price = _money(_("current price"), null=True, blank=True)
    holder = models.ForeignKey("auctions.Buyer", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    bid_count = models.PositiveIntegerField(default=0)
    ends_at = models.DateTimeField(null=True, blank=True)
    round_started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome_reason = models.CharField(max_length=40, blank=True)
    result_due_at = models.DateTimeField(null=True, blank=True)
    result_published_at = models.DateTimeField(null=True, blank=True)
    refund_due_at = models.DateTimeField(null=True, blank=True)
    relisted_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="relistings")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("trade")
        verbose_name_plural = _("trades")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def stream_key(self) -> str:
        return f"auction:{self.public_id}"


class CustodianShare(models.Model):
    """One custodian's encrypted Shamir share of a trade's opening key (as trading.KeyShare)."""

    trade = models.ForeignKey(Trade, on_delete=models.PROTECT, related_name="shares")
    x = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=20)  # agent | supervisor | platform
    custodian = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    custodian_key = models.ForeignKey("trading.RegisteredKey", on_delete=models.PROTECT, related_name="+")
    container = models.JSONField()
    container_sha256 = models.CharField(max_length=64)
    # The decrypted share, accepted only after bidding closed.
    released = models.JSONField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["trade", "x"]
        constraints = [models.UniqueConstraint(fields=["trade", "x"], name="auction_unique_share_x")]

    def __str__(self) -> str:
        return f"{self.trade_id} share {self.x} ({self.role})"


class BuyerStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    QUALIFIED = "qualified", _("Qualified")
    REJECTED = "rejected", _("Rejected")


class DepositState(models.TextChoices):
    NONE = "none", _("Not paid")
    INSUFFICIENT = "insufficient", _("Insufficient")
    PAID = "paid", _("Paid")
    APPLIED = "applied", _("Applied to the price")
    REFUND_DUE = "refund_due", _("Refund due")
    REFUNDED = "refunded", _("Refunded")


class Buyer(models.Model):
    """A buyer's application (竞买申请) to one trade, its deposit sub-account and bidder number."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    trade = models.ForeignKey(Trade, on_delete=models.PROTECT, related_name="buyers")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    applied_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField()
    documents = models.JSONField(default=list)  # [{"name", "size", "sha256"}]
    status = models.CharField(max_length=20, choices=BuyerStatus.choices, default=BuyerStatus.APPLIED)
    reviewed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    # 竞买号: random, given once qualified and the deposit is booked.
    number = models.CharField(max_length=12, blank=True)
    deposit_account = models.CharField(_("virtual sub-account"), max_length=32, unique=True)
    deposit_paid = _money(_("deposit paid"), default=0)
    deposit_state = models.CharField(max_length=20, choices=DepositState.choices, default=DepositState.NONE)
    deposit_settled_at = models.DateTimeField(null=True, blank=True)
    wants_live_round = models.BooleanField(default=False)

    class Meta:
        ordering = ["trade", "applied_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["trade", "organisation"], name="auction_one_application"),
            models.UniqueConstraint(fields=["trade", "number"], condition=~Q(number=""),
                                    name="auction_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.trade_id}/{self.number or '-'}"

    @property
    def may_bid(self) -> bool:
        return self.status == BuyerStatus.QUALIFIED and self.deposit_state == DepositState.PAID and bool(self.number)


class DepositArrival(models.Model):
    """A bank transfer booked on a buyer's virtual sub-account (idempotent by the bank's txn id)."""

    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="arrivals")
    txn_id = models.CharField(max_length=64, unique=True)
    amount = _money(_("amount"))
    payer_account = models.CharField(max_length=40)
    booked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.buyer_id} +{self.amount}"


class Bid(models.Model):
    trade = models.ForeignKey(Trade, on_delete=models.PROTECT, related_name="bids")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="bids")
    seq = models.PositiveIntegerField()
    phase = models.CharField(max_length=10)
    amount = _money(_("amount"))
    accepted_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)  # the deadline after this bid
    idempotency_key = models.CharField(max_length=64, blank=True)
    audit_seq = models.BigIntegerField()
    receipt_id = models.CharField(max_length=32)

    class Meta:
        ordering = ["trade", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["trade", "seq"], name="auction_bid_seq"),
            models.UniqueConstraint(fields=["buyer", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="auction_bid_idempotency"),
        ]

    def __str__(self) -> str:
        return f"{self.trade_id}#{self.seq} {self.amount}"


class Confirmation(models.Model):
    """The signed 成交确认书: canonical JSON signed with the platform key; the PDF is rendered from it."""

    trade = models.OneToOneField(Trade, on_delete=models.PROTECT, related_name="confirmation")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="+")
    document = models.JSONField()
    signed = models.JSONField()
    sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.trade_id} {self.sha256[:12]}"
