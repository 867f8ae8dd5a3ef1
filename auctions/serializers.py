"""Input and output serializers of the auctions API (docs/auctions.md, "API")."""

from __future__ import annotations

from rest_framework import serializers

from auctions.models import Kind
from config.api import InputDateTimeField

MONEY = {"max_length": 24}


class AuctionTradeCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    particulars = serializers.DictField(required=False, default=dict)
    transferor = serializers.IntegerField(min_value=1, help_text="organisation id of the transferor")
    start_price = serializers.CharField(**MONEY)
    increment = serializers.CharField(**MONEY)
    deposit_amount = serializers.CharField(**MONEY)
    starts_at = InputDateTimeField()
    listing_ends_at = InputDateTimeField(required=False, allow_null=True, default=None)
    countdown_seconds = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0,
                                                 max_value=86400)


class AuctionWinnerOutput(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField()


class AuctionTradeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    title = serializers.CharField()
    description = serializers.CharField()
    particulars = serializers.DictField()
    status = serializers.CharField()
    transferor = serializers.CharField()
    agent = serializers.CharField()
    start_price = serializers.CharField()
    increment = serializers.CharField()
    deposit_amount = serializers.CharField()
    countdown_seconds = serializers.IntegerField()
    starts_at = serializers.CharField()
    listing_ends_at = serializers.CharField(allow_null=True)
    notice_published_at = serializers.CharField(allow_null=True)
    opening_key_id = serializers.CharField()
    opening_public_key = serializers.CharField()
    reserve_sealed_sha256 = serializers.CharField(allow_null=True)
    price = serializers.CharField(allow_null=True)
    bid_count = serializers.IntegerField()
    ends_at = serializers.CharField(allow_null=True)
    closed_at = serializers.CharField(allow_null=True)
    reserve = serializers.CharField(allow_null=True, help_text="null until the reserve is unsealed after the end")
    outcome_reason = serializers.CharField()
    result_due_at = serializers.CharField(allow_null=True)
    result_published_at = serializers.CharField(allow_null=True)
    winner = AuctionWinnerOutput(allow_null=True)
    relisted_from = serializers.CharField(allow_null=True)


class AuctionSealedReserveInput(serializers.Serializer):
    sealed = serializers.DictField(help_text="auctions.reserve.seal_reserve output (docs/auctions.md)")


class AuctionIncrementInput(serializers.Serializer):
    increment = serializers.CharField(**MONEY)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AuctionRelistInput(serializers.Serializer):
    start_price = serializers.CharField(**MONEY)
    starts_at = InputDateTimeField()
    listing_ends_at = InputDateTimeField(required=False, allow_null=True, default=None)


class AuctionDocumentInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    size = serializers.IntegerField(min_value=0)
    sha256 = serializers.RegexField(r"^[0-9a-f]{64}$")


class AuctionApplyInput(serializers.Serializer):
    documents = AuctionDocumentInput(many=True, allow_empty=False, max_length=20)


class AuctionReviewInput(serializers.Serializer):
    qualified = serializers.BooleanField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AuctionLiveRoundInput(serializers.Serializer):
    wants = serializers.BooleanField(default=True)


class AuctionBidInput(serializers.Serializer):
    amount = serializers.CharField(**MONEY)


class AuctionShareInput(serializers.Serializer):
    share = serializers.DictField(help_text='released share {"v","x","k","opening_key_id","y"} (SPECS.md §1)')


class AuctionBuyerOutput(serializers.Serializer):
    id = serializers.UUIDField()
    trade = serializers.UUIDField()
    status = serializers.CharField()
    number = serializers.CharField(allow_null=True)
    deposit_account = serializers.CharField()
    deposit_required = serializers.CharField()
    deposit_paid = serializers.CharField()
    deposit_state = serializers.CharField()
    may_bid = serializers.BooleanField()
    wants_live_round = serializers.BooleanField()
    documents = AuctionDocumentInput(many=True)
    review_note = serializers.CharField()


class AuctionApplicationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    organisation = serializers.CharField()
    status = serializers.CharField()
    documents = AuctionDocumentInput(many=True)
    applied_at = serializers.CharField()
    review_note = serializers.CharField()
    deposit_state = serializers.CharField()
    deposit_paid = serializers.CharField()
    number = serializers.CharField(allow_null=True, help_text="supervisors only during the trade")


class AuctionBidOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    number = serializers.CharField()
    amount = serializers.CharField()
    phase = serializers.CharField()
    accepted_at = serializers.CharField()
    ends_at = serializers.CharField(allow_null=True)
    replayed = serializers.BooleanField(help_text="true when the idempotency key had placed this bid already")
    receipt = serializers.JSONField(allow_null=True, help_text="signed receipt (null on a replay: fetch it by id)")
    receipt_id = serializers.CharField()


class AuctionRoomOutput(serializers.Serializer):
    last_id = serializers.IntegerField()
    state = serializers.JSONField()


class AuctionEventsOutput(serializers.Serializer):
    events = serializers.JSONField()


class AuctionReplayOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    price = serializers.CharField(allow_null=True)
    number = serializers.CharField(allow_null=True)
    bids = serializers.IntegerField()
    reserve = serializers.CharField(allow_null=True)
    outcome = serializers.CharField(allow_null=True)
    recorded_outcome = serializers.CharField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())


# --- open data (OCDS 1.1 release packages; auctions/opendata.py, docs/ocds.md) ---


class OcdsPublisherOutput(serializers.Serializer):
    name = serializers.CharField()
    uri = serializers.URLField()


class OcdsAuctionReleaseOutput(serializers.Serializer):
    ocid = serializers.CharField(help_text="<OCDS_OCID_PREFIX>-<trade code>")
    id = serializers.CharField(help_text="<ocid>-notice|result-<12 hex of the release's SHA-256>")
    date = serializers.CharField()
    tag = serializers.ListField(child=serializers.CharField(), help_text='["award"] once decided, else ["tender"]')
    initiationType = serializers.CharField()  # noqa: N815 (OCDS field name)
    language = serializers.CharField()
    parties = serializers.ListField(child=serializers.DictField(), help_text="transferor (buyer), agent "
                                    "(procuringEntity), the winner once sold (tenderer, supplier)")
    buyer = serializers.DictField(help_text="the transferor: {id, name}")
    tender = serializers.DictField(help_text="the trade; value = −start price (OCDS: a payment to the buyer)")
    awards = serializers.ListField(child=serializers.DictField(), required=False,
                                   help_text="once decided: one award, active (sold, value = −price) or "
                                             "unsuccessful")
    relatedProcesses = serializers.ListField(  # noqa: N815 (OCDS field name)
        child=serializers.DictField(), required=False, help_text="a relisting: the earlier unsuccessful trade")


class OcdsAuctionPackageOutput(serializers.Serializer):
    uri = serializers.CharField()
    version = serializers.CharField()
    publishedDate = serializers.CharField()  # noqa: N815 (OCDS field name)
    publisher = OcdsPublisherOutput()
    license = serializers.CharField()
    publicationPolicy = serializers.CharField()  # noqa: N815 (OCDS field name)
    releases = OcdsAuctionReleaseOutput(many=True)
