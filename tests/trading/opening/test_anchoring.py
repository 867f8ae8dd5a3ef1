"""Public anchoring (docs/witness.md): the latest witnessed audit checkpoint is printed into the
opening record (JSON and PDF) and into result notices."""

from __future__ import annotations

import json

import pytest

from audit import checkpoints, witnessing
from tests.trading.sealed import end_phase, pass_deadline, submit
from tests.witness.fixtures import platform_witnesses
from trading.models import Notice, NoticeKind, Opening, OpeningState

pytestmark = pytest.mark.django_db


def _witnessed_checkpoint(capture) -> str:
    with capture(execute=True):
        checkpoint = checkpoints.checkpoint_create()
    assert checkpoint.cosignatures.count() == 1
    return witnessing.witnessed_note(checkpoint)


def test_opening_record_carries_the_latest_witnessed_checkpoint(bidding, clock, tmp_path, settings,
                                                                 django_capture_on_commit_callbacks):
    with platform_witnesses(tmp_path, settings):
        for b in bidding.bidders:
            submit(bidding.lot, b)
        pass_deadline(clock, bidding.tender)
        note = _witnessed_checkpoint(django_capture_on_commit_callbacks)
        for _ in range(4):
            end_phase(clock, bidding.tender)
    opening = Opening.objects.get(tender=bidding.tender)
    assert opening.state == OpeningState.CLOSED
    anchor = json.loads(opening.record_json)["audit_anchor"]
    assert anchor["witnessed_checkpoint"] == note and anchor["witnesses"] == ["witness0.test/w"]
    assert anchor["origin"] == settings.AUDIT_LOG_ORIGIN and f"\n{anchor['tree_size']}\n" in note
    from trading.opening.record import record_build, record_pdf

    built = record_build(opening)  # the PDF prints the anchor too
    assert built["audit_anchor"]["witnessed_checkpoint"] == note
    with_anchor = record_pdf(built, sha256=opening.record_sha256)
    assert with_anchor != record_pdf({**built, "audit_anchor": None}, sha256=opening.record_sha256)


def test_record_without_witnesses_says_none(bidding, clock):
    for b in bidding.bidders:
        submit(bidding.lot, b)
    pass_deadline(clock, bidding.tender)
    for _ in range(4):
        end_phase(clock, bidding.tender)
    assert json.loads(Opening.objects.get(tender=bidding.tender).record_json)["audit_anchor"] is None


def test_result_notice_prints_the_witnessed_checkpoint(bidding, clock, tmp_path, settings,
                                                       django_capture_on_commit_callbacks):
    with platform_witnesses(tmp_path, settings):
        for b in bidding.bidders[:2]:
            submit(bidding.lot, b)
        note = _witnessed_checkpoint(django_capture_on_commit_callbacks)
        pass_deadline(clock, bidding.tender)  # fewer than three bids: failure notice
    notice = Notice.objects.get(tender=bidding.tender, kind=NoticeKind.FAILURE)
    assert notice.body.endswith(note.rstrip("\n"))
    assert "Witnessed audit checkpoint" in notice.body
    from audit.models import AuditEvent

    event = AuditEvent.objects.filter(action="notice.published", data__notice=notice.pk).get()
    assert event.data["audit_anchor"]["tree_size"] == int(note.split("\n")[1])


def test_termination_notice_is_anchored_too(published, cast, tmp_path, settings, django_capture_on_commit_callbacks):
    from trading.services.notices import result_notice_publish

    with platform_witnesses(tmp_path, settings):
        note = _witnessed_checkpoint(django_capture_on_commit_callbacks)
        notice = result_notice_publish(actor=cast.agent, tender=published, kind="termination", title="Terminated",
                                       body="The project was cancelled.")
    assert notice.body.startswith("The project was cancelled.\n\n") and notice.body.endswith(note.rstrip("\n"))
