"""Files and rows commit together (issue 20, item 4): envelopes staged and renamed on commit,
decrypted files moved into place by the step that saves their outcome, and the orphan sweeper."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from audit.models import AuditEvent
from tests.trading.sealed import dek_of, end_phase, pass_deadline, seal, submit, upload
from trading.bids import storage
from trading.bids.sweeper import storage_orphans_sweep
from trading.models import Bid, BidOpening, OpeningState
from trading.opening import decrypt
from trading.opening import services as sv

pytestmark = pytest.mark.django_db

LATER = 10 * 3600  # seconds: far past the default grace period


class Rollback(Exception):
    pass


def _stored(root):
    return sorted(p.name for p in root.glob("[0-9a-f][0-9a-f]/*.sbe1"))


def _sweep_later():
    return storage_orphans_sweep(now=time.time() + LATER)


def test_a_rolled_back_upload_leaves_no_file_under_its_final_name_and_the_sweeper_removes_the_staged_one(bidding):
    bidder = bidding.bidders[0]
    envelope = seal(bidding.lot, bidder)
    with pytest.raises(Rollback), transaction.atomic():
        assert upload(bidding.lot, bidder, envelope).status_code == 201
        raise Rollback  # the COMMIT does not happen
    assert not Bid.objects.exists()
    assert _stored(storage.envelope_root()) == []  # never named without its row
    staged = list(storage.staged_root().iterdir())
    assert len(staged) == 1
    # Within the grace period the sweeper leaves it alone (an accepting transaction may still be open).
    assert storage_orphans_sweep().removed == []
    report = _sweep_later()
    assert [r["area"] for r in report.removed] == ["envelopes.staged"]
    assert list(storage.staged_root().iterdir()) == []
    event = AuditEvent.objects.get(action="storage.orphans_swept")
    assert event.actor == "system" and event.data["removed_count"] == 1
    assert event.data["removed"][0]["name"] == staged[0].name


def test_a_committed_upload_is_renamed_to_its_final_name(bidding):
    bid = submit(bidding.lot, bidding.bidders[0])
    row = Bid.objects.get(public_id=bid["id"])
    assert storage.path_of(row.storage_name).exists()
    assert list(storage.staged_root().iterdir()) == []
    assert _sweep_later().removed == []  # nothing orphaned
    assert not AuditEvent.objects.filter(action="storage.orphans_swept").exists()


def test_a_crash_between_commit_and_rename_is_finished_by_the_sweeper(bidding, monkeypatch):
    lost = []
    with monkeypatch.context() as patch:
        patch.setattr(storage, "after_commit", lost.append)  # the process dies right after COMMIT
        bid = submit(bidding.lot, bidding.bidders[0])
    assert len(lost) == 1
    row = Bid.objects.get(public_id=bid["id"])
    assert not storage.path_of(row.storage_name).exists()
    report = _sweep_later()
    assert [r["area"] for r in report.recovered] == ["envelopes.staged"] and report.removed == []
    assert storage.path_of(row.storage_name).read_bytes() == bidding.bidders[0].envelopes[bid["id"]]
    assert AuditEvent.objects.get(action="storage.orphans_swept").data["recovered_count"] == 1


def test_the_sweeper_removes_old_partial_uploads_and_unreferenced_envelopes(bidding):
    incoming = storage.envelope_root() / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    (incoming / "tmpkilled.part").write_bytes(b"half an upload")
    stray = storage.path_of(storage.storage_name("ab" * 32))
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"no row names me")
    kept = submit(bidding.lot, bidding.bidders[0])
    report = _sweep_later()
    assert sorted(r["area"] for r in report.removed) == ["envelopes.incoming", "envelopes.stored"]
    assert not (incoming / "tmpkilled.part").exists() and not stray.exists()
    assert storage.path_of(Bid.objects.get(public_id=kept["id"]).storage_name).exists()


def _decrypting(bidding, clock):
    bids = [submit(bidding.lot, b, price=p) for b, p in zip(bidding.bidders, ("3.00", "2.00", "1.00"), strict=True)]
    pass_deadline(clock, bidding.tender)
    for b in bidding.bidders:
        sv.opening_sign_in(actor=b.user, tender=bidding.tender)
    end_phase(clock, bidding.tender)
    assert sv.Opening.objects.get(tender=bidding.tender).state == OpeningState.DECRYPTING
    return bids


def test_decrypted_files_appear_only_with_their_saved_outcome(bidding, clock, monkeypatch):
    bids = _decrypting(bidding, clock)
    b, bid = bidding.bidders[0], bids[0]
    target = storage.opened_root() / str(bidding.tender.pk) / str(Bid.objects.get(public_id=bid["id"]).pk)

    def dies(**kwargs):
        raise RuntimeError("killed while saving the outcome")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(sv, "_record_bidder_outcome", dies)
        sv.bid_dek_release(actor=b.user, tender=bidding.tender, bid_id=bid["id"], dek=dek_of(b, b.envelopes[bid["id"]]))
    assert not target.exists()  # no decrypted files without their outcome
    assert list(decrypt.partial_root().iterdir()) == []  # and no work directory left behind
    dek = dek_of(b, b.envelopes[bid["id"]])
    bo = sv.bid_dek_release(actor=b.user, tender=bidding.tender, bid_id=bid["id"], dek=dek)
    assert bo.status == "decrypted"
    assert sorted(p.name for p in target.iterdir()) == sorted(f["name"] for f in bo.files)


def test_the_sweeper_recovers_or_removes_decrypted_files_by_their_outcome(bidding, clock, monkeypatch):
    bids = _decrypting(bidding, clock)
    lost = []
    b, bid = bidding.bidders[0], bids[0]
    with monkeypatch.context() as patch:
        patch.setattr(storage, "after_commit", lost.append)  # crash right after the outcome's COMMIT
        sv.bid_dek_release(actor=b.user, tender=bidding.tender, bid_id=bid["id"], dek=dek_of(b, b.envelopes[bid["id"]]))
    target = storage.opened_root() / str(bidding.tender.pk) / str(Bid.objects.get(public_id=bid["id"]).pk)
    assert not target.exists() and len(list(decrypt.partial_root().iterdir())) == 1
    # Decrypted files of a bid whose outcome was never saved (left by the older code).
    other = storage.opened_root() / str(bidding.tender.pk) / str(Bid.objects.get(public_id=bids[1]["id"]).pk)
    other.mkdir(parents=True)
    (other / "technical.pdf").write_bytes(b"plaintext")
    report = _sweep_later()
    assert [r["area"] for r in report.recovered] == ["opened.partial"]
    assert [r["area"] for r in report.removed] == ["opened.bids"]
    saved = BidOpening.objects.get(bid__public_id=bid["id"]).files
    assert sorted(p.name for p in target.iterdir()) == [f["name"] for f in saved]
    assert not other.exists()
