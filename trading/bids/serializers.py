"""Input and output serializers of the sealed-bid API."""

from __future__ import annotations

from rest_framework import serializers

from trading.models import KeyHolder

PUBLIC_ID_HELP = "Random public id (UUID 4), used in URLs: it discloses no count (docs/tendering.md)."


class KeyInput(serializers.Serializer):
    public_key = serializers.CharField(max_length=400, help_text="P-256 SPKI DER, base64 (never a private key)")
    holder = serializers.ChoiceField(choices=KeyHolder.choices, default=KeyHolder.ORGANISATION)
    label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class KeyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    holder = serializers.CharField()
    organisation = serializers.IntegerField(source="organisation_id", allow_null=True)
    user = serializers.IntegerField(source="user_id", allow_null=True)
    key_id = serializers.CharField()
    public_key = serializers.CharField(source="public_spki")
    label = serializers.CharField()
    registered_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class OpeningKeyOutput(serializers.Serializer):
    lot = serializers.IntegerField(source="lot_id")
    tender = serializers.IntegerField(source="tender_id")
    key_id = serializers.CharField()
    public_key = serializers.CharField(source="public_spki")
    threshold = serializers.IntegerField()
    share_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ReceiptField(serializers.JSONField):
    pass


class BidOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", help_text=PUBLIC_ID_HELP)
    tender = serializers.IntegerField(source="tender_id")
    lot = serializers.IntegerField(source="lot_id")
    bidder = serializers.IntegerField(source="bidder_id")
    status = serializers.CharField()
    envelope_sha256 = serializers.CharField()
    size = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    bidder_key_id = serializers.CharField(source="bidder_key.key_id")
    opening_key_id = serializers.CharField(source="opening_key.key_id")
    replaces = serializers.UUIDField(source="replaces.public_id", allow_null=True, default=None,
                                     help_text="Public id of the bid this upload replaced.")
    receipt = ReceiptField(help_text="{receipt, signature, key_id}: Ed25519 over canonical JSON (audit.signing)")


class WithdrawOutput(serializers.Serializer):
    bid = BidOutput()
    receipt = serializers.JSONField()


class ShareOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="opening_key.tender_id")
    lot = serializers.IntegerField(source="opening_key.lot_id")
    opening_key_id = serializers.CharField(source="opening_key.key_id")
    threshold = serializers.IntegerField(source="opening_key.threshold")
    x = serializers.IntegerField()
    role = serializers.CharField()
    custodian_key_id = serializers.CharField(source="custodian_key.key_id")
    container = serializers.JSONField(help_text="encrypted share: decrypt locally (python -m sbe1 decrypt-share)")
