"""The opening state machine: the 3-bid floor, decryption and its failures, read-out, confirmation,
objections, closing with the record."""

from __future__ import annotations

import hashlib
import json

import pytest

import sbe1
from audit.models import AuditEvent
from config.errors import DomainError, RuleViolation, StateConflict
from realtime.models import StreamEvent
from tests.trading.sealed import dek_of, end_phase, pass_deadline, seal, sign, submit, upload
from trading.bids import storage
from trading.models import (
    BidOpening,
    Notice,
    NoticeKind,
    Opening,
    OpeningState,
    TenderStatus,
)
from trading.opening import services as sv
from trading.opening.room import room_key

pytestmark = pytest.mark.django_db


def _opening(tender) -> Opening:
    return Opening.objects.get(tender=tender)


def _bo(bid_id) -> BidOpening:
    return BidOpening.objects.get(bid__public_id=bid_id)


def test_fewer_than_three_bids_fail_the_tender_with_a_notice(bidding, clock):
    for bidder in bidding.bidders[:2]:
        submit(bidding.lot, bidder)
    pass_deadline(clock, bidding.tender)
    bidding.tender.refresh_from_db()
    assert bidding.tender.status == TenderStatus.FAILED
    opening = _opening(bidding.tender)
    assert opening.state == OpeningState.FAILED and "招标投标法 Art 28" in opening.failure_reason
    notice = Notice.objects.get(tender=bidding.tender, kind=NoticeKind.FAILURE)
    assert "招标投标法 Art 28" in notice.body
    assert not BidOpening.objects.exists()  # nothing is opened
    kinds = list(StreamEvent.objects.filter(stream__key=room_key(bidding.tender.pk)).values_list("kind", flat=True))
    assert kinds[:2] == ["phase", "room.opened"]


def _open_room(bidding, clock, prices=("300.00", "200.00", "100.00")):
    bids = [submit(bidding.lot, b, price=p) for b, p in zip(bidding.bidders, prices, strict=True)]
    pass_deadline(clock, bidding.tender)
    bidding.tender.refresh_from_db()
    assert bidding.tender.status == TenderStatus.OPENING
    assert _opening(bidding.tender).state == OpeningState.SIGNING_IN
    return bids


def test_full_opening_by_bidders(bidding, clock):
    tender = bidding.tender
    bids = _open_room(bidding, clock)
    with pytest.raises(StateConflict):  # no release before decryption starts
        sv.bid_dek_release(actor=bidding.bidders[0].user, tender=tender, bid_id=bids[0]["id"], dek="x")
    for b in bidding.bidders:
        sv.opening_sign_in(actor=b.user, tender=tender)
    end_phase(clock, tender)  # sign-in over → decryption
    assert _opening(tender).state == OpeningState.DECRYPTING
    first = bidding.bidders[0]
    with pytest.raises(RuleViolation) as wrong:
        sv.bid_dek_release(actor=first.user, tender=tender, bid_id=bids[0]["id"], dek="A" * 43 + "=")
    assert wrong.value.code == "wrong_dek"
    assert _bo(bids[0]["id"]).attempts == 1 and _bo(bids[0]["id"]).status == "pending"
    with pytest.raises(DomainError):  # another bidder cannot release it
        sv.bid_dek_release(actor=bidding.bidders[1].user, tender=tender, bid_id=bids[0]["id"],
                           dek=dek_of(first, first.envelopes[bids[0]["id"]]))
    for b, bid in zip(bidding.bidders, bids, strict=True):
        bo = sv.bid_dek_release(actor=b.user, tender=tender, bid_id=bid["id"], dek=dek_of(b, b.envelopes[bid["id"]]))
        assert bo.status == "decrypted" and bo.method == "bidder"
    # Every bid decrypted: read-out done, confirmation window open.
    opening = _opening(tender)
    assert opening.state == OpeningState.CONFIRMING
    readouts = {str(bo.bid.public_id): bo.readout for bo in BidOpening.objects.select_related("bid")}
    assert readouts[bids[2]["id"]] == {"price": "100.00", "duration_days": 180}
    from trading.deposits.selectors import deposit_status_for

    assert all(bo.deposit_status == deposit_status_for(bo.bid.registration).value != ""
               for bo in BidOpening.objects.all())
    files = BidOpening.objects.get(bid__public_id=bids[0]["id"]).files
    assert files[0]["name"] == "technical.pdf"
    internal = BidOpening.objects.get(bid__public_id=bids[0]["id"]).bid_id  # the store uses internal ids
    opened = storage.opened_root() / str(tender.pk) / str(internal) / "technical.pdf"
    assert hashlib.sha256(opened.read_bytes()).hexdigest() == files[0]["sha256"]
    # Confirmation: two confirm, the third is absent (deemed); an objection is raised and answered.
    sv.opening_confirm(actor=bidding.bidders[0].user, tender=tender)
    objection = sv.opening_objection_raise(actor=bidding.bidders[1].user, tender=tender,
                                           text="The read-out of lot 1 omitted our discount.")
    sv.opening_confirm(actor=bidding.bidders[1].user, tender=tender)
    end_phase(clock, tender)
    opening = _opening(tender)
    assert opening.state == OpeningState.OBJECTIONS
    assert sorted(opening.confirmations.values_list("kind", flat=True)) == ["confirmed", "confirmed", "deemed"]
    with pytest.raises(RuleViolation):  # an objection is answered before closing (实施条例 Art 44)
        sv.opening_close(actor=bidding.cast.agent, tender=tender)
    with pytest.raises(DomainError):
        sv.opening_objection_answer(actor=bidding.bidders[0].user, tender=tender, objection_id=objection.pk,
                                    answer="no")
    sv.opening_objection_answer(actor=bidding.cast.agent, tender=tender, objection_id=objection.pk,
                                answer="Discounts are evaluated, not read out.")
    sv.opening_close(actor=bidding.cast.agent, tender=tender)
    opening = _opening(tender)
    tender.refresh_from_db()
    assert opening.state == OpeningState.CLOSED and tender.status == TenderStatus.EVALUATING
    record = json.loads(opening.record_json)
    assert hashlib.sha256(opening.record_json.encode()).hexdigest() == opening.record_sha256
    rows = record["lots"][0]["bids"]
    assert [r["readout"]["price"] for r in rows] == ["300.00", "200.00", "100.00"]
    assert record["objections"][0]["answer"].startswith("Discounts")
    event = AuditEvent.objects.get(action="opening.record_published")
    assert event.data["record_sha256"] == opening.record_sha256
    pdf = (storage.records_root() / opening.record_pdf_name).read_bytes()
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == opening.record_pdf_sha256


def test_public_sees_the_record_once_published(bidding, clock, api):
    tender = bidding.tender
    bids = _open_room(bidding, clock)
    url = f"/api/v1/tenders/{tender.pk}/opening"
    for b in bidding.bidders:
        sv.opening_sign_in(actor=b.user, tender=tender)
    sv.opening_advance(actor=bidding.cast.agent, tender=tender)
    for b, bid in zip(bidding.bidders, bids, strict=True):
        sv.bid_dek_release(actor=b.user, tender=tender, bid_id=bid["id"], dek=dek_of(b, b.envelopes[bid["id"]]))
    public = api.get(url).json()["state"]
    assert "readout" not in public and public["state"] == "confirming"
    assert api.get(f"/api/v1/tenders/{tender.pk}/opening/record").status_code == 404
    for b in bidding.bidders:
        sv.opening_confirm(actor=b.user, tender=tender)
    assert _opening(tender).state == OpeningState.OBJECTIONS
    sv.opening_advance(actor=bidding.cast.agent, tender=tender)  # closes
    public = api.get(url).json()["state"]
    assert len(public["readout"]) == 3 and public["record"]["sha256"] == _opening(tender).record_sha256
    record = api.get(f"/api/v1/tenders/{tender.pk}/opening/record")
    assert record.status_code == 200
    assert hashlib.sha256(record.content).hexdigest() == _opening(tender).record_sha256
    pdf = api.get(f"/api/v1/tenders/{tender.pk}/opening/record.pdf")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_decryption_failures_are_classified_and_still_count(bidding, clock, settings):
    """Bidder's fault (defective envelope, no release) → revoked; platform's fault (stored file changed)
    → withdrawn; the three failed bids still make the floor, so the opening goes on."""
    tender, lot = bidding.tender, bidding.lot
    b0, b1, b2 = bidding.bidders
    # b0 signs a defective envelope (a chunk missing): accepted at upload, fails at opening.
    good = seal(lot, b0, files=[("a.bin", b"\x01" * 5000)], chunk_size=1024)
    header = sbe1.parse_header(good)
    defective = good[: header.size + 1040] + good[header.size + 2 * 1040:]
    response = upload(lot, b0, defective, signature=sign(b0, defective))
    assert response.status_code == 201
    bad_id = response.json()["id"]
    b0.envelopes[bad_id] = defective
    silent = submit(lot, b1)
    corrupted = submit(lot, b2)
    pass_deadline(clock, tender)
    for b in bidding.bidders:
        sv.opening_sign_in(actor=b.user, tender=tender)
    sv.opening_advance(actor=bidding.cast.agent, tender=tender)
    bo = sv.bid_dek_release(actor=b0.user, tender=tender, bid_id=bad_id, dek=dek_of(b0, defective))
    assert (bo.status, bo.fault, bo.outcome) == ("failed", "bidder", "revoked")
    # The stored envelope of b2 changes on disk (not the bidder's doing).
    path = storage.path_of(_bo(corrupted["id"]).bid.storage_name)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    bo = sv.bid_dek_release(actor=b2.user, tender=tender, bid_id=corrupted["id"],
                            dek=dek_of(b2, b2.envelopes[corrupted["id"]]))
    assert (bo.status, bo.fault, bo.outcome, bo.failure_code) == ("failed", "other", "withdrawn",
                                                                   "envelope_hash_mismatch")
    end_phase(clock, tender)  # b1 never released: revoked when the window closes
    bo = _bo(silent["id"])
    assert (bo.status, bo.fault, bo.outcome, bo.failure_code) == ("failed", "bidder", "revoked",
                                                                   "not_decrypted_in_window")
    opening = _opening(tender)
    assert opening.state == OpeningState.CONFIRMING and opening.lots.get().bid_count == 3
    events = {e.data["code"]: e.data for e in AuditEvent.objects.filter(action="bid.decryption_failed")}
    assert len(events) == 3
    # Revoked bids: the deposits module is asked to keep the deposit (实施条例 Art 35); withdrawn ones not.
    assert events["not_decrypted_in_window"]["deposit_forfeit_requested"] is True
    assert events["envelope_hash_mismatch"]["deposit_forfeit_requested"] is False


def _shares(cast, roles):
    from trading.models import KeyShare

    out = []
    for role in roles:
        user, private = cast.custodians[role]
        share = KeyShare.objects.get(custodian=user)
        out.append((user, sbe1.decrypt_share(share.container, private).to_json_bytes().decode()))
    return out


def test_custodian_fallback_with_k_shares(bidding, clock):
    tender = bidding.tender
    bids = _open_room(bidding, clock)
    for b in bidding.bidders:
        sv.opening_sign_in(actor=b.user, tender=tender)
    sv.opening_advance(actor=bidding.cast.agent, tender=tender)
    (user, share), = _shares(bidding.cast, ["agent"])
    with pytest.raises(StateConflict):  # only in the fallback phase
        sv.share_submit(actor=user, tender=tender, share=share)
    for b, bid in zip(bidding.bidders[:2], bids[:2], strict=True):
        sv.bid_dek_release(actor=b.user, tender=tender, bid_id=bid["id"], dek=dek_of(b, b.envelopes[bid["id"]]))
    sv.bid_mark_fallback(actor=bidding.cast.agent, tender=tender, bid_id=bids[2]["id"],
                         reason="the platform's decryption service was down for this bidder")
    opening = _opening(tender)
    assert opening.state == OpeningState.FALLBACK  # nothing pending: straight to the custodians
    shares = _shares(bidding.cast, ["agent", "platform"])
    with pytest.raises(DomainError):  # a custodian submits only its own share
        sv.share_submit(actor=shares[0][0], tender=tender, share=shares[1][1])
    sv.share_submit(actor=shares[0][0], tender=tender, share=shares[0][1])
    assert _bo(bids[2]["id"]).status == "fallback"
    sv.share_submit(actor=shares[1][0], tender=tender, share=shares[1][1])
    bo = _bo(bids[2]["id"])
    assert (bo.status, bo.method) == ("decrypted", "custodian") and bo.readout["price"] == "100.00"
    assert _opening(tender).state == OpeningState.CONFIRMING
    event = AuditEvent.objects.get(action="opening_key.rebuilt")
    assert event.data["shares_used"] == [1, 3] and event.data["private_key_discarded"] is True
    from trading.models import ShareRelease

    assert set(ShareRelease.objects.values_list("released", flat=True)) == {""}  # wiped after use


def test_custodian_fallback_with_k_minus_1_shares_withdraws_the_bid(bidding, clock):
    tender = bidding.tender
    bids = _open_room(bidding, clock)
    for b in bidding.bidders:
        sv.opening_sign_in(actor=b.user, tender=tender)
    sv.opening_advance(actor=bidding.cast.agent, tender=tender)
    sv.bid_mark_fallback(actor=bidding.cast.agent, tender=tender, bid_id=bids[0]["id"], reason="platform outage")
    end_phase(clock, tender)  # the window closes: the other two never released → revoked; bid 0 → custodians
    assert _opening(tender).state == OpeningState.FALLBACK
    (user, share), = _shares(bidding.cast, ["supervisor"])
    sv.share_submit(actor=user, tender=tender, share=share)
    assert _bo(bids[0]["id"]).status == "fallback"
    end_phase(clock, tender)
    bo = _bo(bids[0]["id"])
    assert (bo.status, bo.fault, bo.outcome, bo.failure_code) == ("failed", "other", "withdrawn",
                                                                   "fallback_incomplete")
    assert _opening(tender).state == OpeningState.CONFIRMING


def test_the_whole_opening_runs_by_the_clock_alone(bidding, clock):
    """Nobody acts: every phase ends by its step; absent bidders are revoked and deemed to accept."""
    tender = bidding.tender
    _open_room(bidding, clock)
    for _ in range(4):  # sign-in, decryption, confirmation, objections
        end_phase(clock, tender)
    opening = _opening(tender)
    tender.refresh_from_db()
    assert opening.state == OpeningState.CLOSED and tender.status == TenderStatus.EVALUATING
    assert set(BidOpening.objects.values_list("outcome", flat=True)) == {"revoked"}
    assert opening.record_published_at is not None


def test_a_tender_failed_mid_opening_refuses_every_room_command(bidding, clock):
    """The room's state stays where the failure notice found it; the phase table (trading/phases.py,
    ROOM_LIVE_TENDER_PHASES) makes every command refuse instead of acting on a decided tender."""
    from trading.services.notices import result_notice_publish

    tender = bidding.tender
    _open_room(bidding, clock)
    result_notice_publish(actor=bidding.cast.agent, tender=tender, kind="failure", title="Failure", body="Failed.")
    tender.refresh_from_db()
    assert tender.status == TenderStatus.FAILED and _opening(tender).state == OpeningState.SIGNING_IN
    with pytest.raises(StateConflict) as refused:
        sv.opening_sign_in(actor=bidding.bidders[0].user, tender=tender)
    assert refused.value.code == "wrong_phase"
