from __future__ import annotations

from django.db import models

from audit.canonical import format_timestamp


class AuditEvent(models.Model):
    """One link of the hash chain (SPECS.md §2). Append-only: the database refuses
    UPDATE and DELETE (triggers in migration 0002)."""

    seq = models.BigIntegerField(primary_key=True)
    ts = models.DateTimeField()
    actor = models.CharField(max_length=64)
    action = models.CharField(max_length=100, db_index=True)
    object = models.CharField(max_length=200, db_index=True)
    data = models.JSONField(default=dict)
    prev = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object}"

    def as_dict(self) -> dict:
        """The event as hashed: every field but `hash`."""
        return {
            "seq": self.seq,
            "ts": format_timestamp(self.ts),
            "actor": self.actor,
            "action": self.action,
            "object": self.object,
            "data": self.data,
            "prev": self.prev,
        }


class MerkleNode(models.Model):
    """The hash of one complete subtree of the RFC 6962 tree over the events: leaves
    [index * 2**level, (index + 1) * 2**level), level >= 1 (level 0 is AuditEvent.hash).

    A cache derived from the events: complete subtrees never change in an append-only
    log, so rows are only ever added (audit.checkpoints.nodes_fill). `audit verify`
    never trusts it; it recomputes from the events.
    """

    pk = models.CompositePrimaryKey("level", "index")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class Checkpoint(models.Model):
    """A signed tree head (C2SP tlog-checkpoint as a signed note, SPECS.md §2).

    Kept forever: every one lets `audit verify` and supervisors detect a truncated or
    rewritten log. The database refuses UPDATE and DELETE (migration 0003).
    """

    tree_size = models.BigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size} {self.root_hash[:12]}"


class CheckpointRefusal(models.Model):
    """The platform refused to sign a checkpoint: the log was shorter than, or inconsistent
    with, a checkpoint it signed before (audit.checkpoints.checkpoint_create). Each one is a red
    supervision warning. Append-only like the log (audit.guard)."""

    at = models.DateTimeField()
    log_size = models.BigIntegerField()
    problem = models.TextField()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"checkpoint refused at {self.at:%Y-%m-%d %H:%M}"


class Receipt(models.Model):
    """A signed receipt the platform handed out for one audit event (audit/receipts.py).

    `id` is random (128 bits, hex): receipt identifiers reveal nothing about how many receipts,
    bids or events exist. The holder (an organisation, or a single user) may fetch the event's
    canonical JSON and its inclusion proof with it (policy rule `audit.view_receipt`).
    """

    id = models.CharField(primary_key=True, max_length=32, editable=False)
    seq = models.BigIntegerField(db_index=True)
    leaf_hash = models.CharField(max_length=64)
    kind = models.CharField(max_length=100)
    holder_org = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    holder_user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    signed = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"receipt {self.id} for event {self.seq}"


class WorkerHeartbeat(models.Model):
    """The last sign of life of a Celery worker process or of beat (audit/health.py).

    Operational telemetry, overwritten in place every few seconds: not part of the audit chain."""

    key = models.CharField(max_length=200, primary_key=True)  # "worker:<hostname>" | "beat"
    kind = models.CharField(max_length=10)  # "worker" | "beat"
    seen_at = models.DateTimeField()
    pid = models.IntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.key} at {self.seen_at}"


class SealedOpening(models.Model):
    """The opening of one sealed audit event (docs/audit.md, "Sealed events").

    While a tender's bid deadline has not passed, events about sealed facts (who registered,
    paid, asked, objected or bid) enter the log only as `sealed.committed` events carrying an
    HMAC commitment; the event they stand for is kept here until the deadline event publishes
    the tender's salt and every opening. Not part of the log: the log holds the commitment.
    """

    seq = models.BigIntegerField(unique=True)  # the seq of the `sealed.committed` event
    tender_id = models.BigIntegerField(db_index=True)  # trading.Tender (no FK: audit stays below trading)
    opening = models.JSONField()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"sealed #{self.seq} (tender {self.tender_id})"


class WitnessCosignature(models.Model):
    """One witness's C2SP tlog-cosignature/v1 over a checkpoint (audit.witnessing, docs/witness.md).

    Append-only (database triggers, migration 0008): the witnessed checkpoint is the checkpoint
    note followed by these lines, so they are kept as received.
    """

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.CharField(max_length=200)  # the witness's key name
    key_id = models.CharField(max_length=8)  # hex of the 4-byte key ID (type 0x04)
    timestamp = models.BigIntegerField()  # POSIX seconds, signed by the witness
    line = models.TextField()  # "— <name> <base64>", without the newline
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["checkpoint__tree_size", "received_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness", "key_id"],
                                               name="audit_one_cosignature_per_witness")]

    def __str__(self) -> str:
        return f"cosignature by {self.witness} at {self.checkpoint_id}"


class WitnessSubmission(models.Model):
    """One add-checkpoint request to a witness and its outcome (append-only, migration 0008).

    A refusal (any 4xx after the 409 retries) is a red supervision warning until the same
    witness cosigns a later checkpoint; an unreachable witness is yellow.
    """

    class Outcome(models.TextChoices):
        COSIGNED = "cosigned"
        REFUSED = "refused"
        UNREACHABLE = "unreachable"

    witness = models.CharField(max_length=200)
    key_id = models.CharField(max_length=8)
    url = models.CharField(max_length=500)
    tree_size = models.BigIntegerField()
    old_size = models.BigIntegerField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # HTTP status, if any
    detail = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["witness", "key_id", "-at"], name="audit_witness_latest")]

    def __str__(self) -> str:
        return f"{self.witness} {self.outcome} at {self.tree_size}"
