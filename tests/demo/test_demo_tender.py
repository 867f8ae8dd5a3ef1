"""`manage.py demo_tender` end to end on a fresh database, at the --fast acceleration (docs/demo_tender.md):
the command seeds the demo accounts itself, plays the tender from notice to contract on the real clock,
and the results are checked in the database, not in its own report."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.selectors import chain_verify


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_demo_tender_plays_a_tender_from_notice_to_contract(settings, tmp_path):
    from accounts.models import User
    from audit.models import AuditEvent
    from trading.evaluation.models import Award, Contract, EvaluationBid, EvaluationReport
    from trading.models import Bid, BidOpening, Tender
    from trading.models.deposit import RefundInstruction

    acceleration = settings.SANDBOX_TIME_ACCELERATION
    out = io.StringIO()
    call_command("demo_tender", "--fast", "--bidders", "4", "--seed", "20261122", "--keys-dir", str(tmp_path / "keys"),
                 stdout=out)
    text = out.getvalue()
    assert acceleration == settings.SANDBOX_TIME_ACCELERATION  # set for the run only

    tender = Tender.objects.get()
    assert tender.status == "contracted", text
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        "agent1.key.json", "platform1.key.json", "supervisor1.key.json"]

    # The prices the simulated bidders sealed (printed from their memory) are what the opening decrypted.
    sealed = {name: Decimal(price) for name, price in
              re.findall(r"(bidder\d) released its DEK: bid decrypted, price ([\d.]+) CNY", text)}
    assert sorted(sealed) == ["bidder1", "bidder2", "bidder3", "bidder4"]
    orgs = {u.organisation_id: u.username for u in User.objects.filter(username__in=sealed)}
    opened = {orgs[b.bidder_id]: b.price for b in EvaluationBid.objects.filter(session__tender=tender)}
    assert opened == sealed
    assert all(Decimal("15996000") <= p <= Decimal("18042000") for p in opened.values())  # 86–97 % of the estimate
    assert Bid.objects.filter(lot__tender=tender).count() == 4
    assert BidOpening.objects.filter(bid__lot__tender=tender, status="decrypted").count() == 4

    # bidder4's deposit arrived short: every expert rejected its bid, it is not ranked.
    report = EvaluationReport.objects.get(tender=tender, status="final")
    ranked = [orgs[r["bidder"]] for r in report.content["ranking"]]
    assert sorted(ranked) == ["bidder1", "bidder2", "bidder3"]
    award = Award.objects.get(tender=tender)
    assert orgs[award.bid.bidder_id] == ranked[0]
    contract = Contract.objects.get(award=award)
    assert contract.amount == opened[ranked[0]]
    assert sorted(RefundInstruction.objects.filter(tender=tender).values_list("status", flat=True)) == ["executed"] * 4

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    # Registrations and bids were sealed events, opened by the deadline's reveal (docs/audit.md).
    reveal = AuditEvent.objects.get(action="tender.status_changed", data__tender=tender.pk, data__to="bidding_closed")
    actions |= {item["opening"]["action"] for item in reveal.data["sealed"]}
    assert {"tender.created", "notice.published", "registration.created", "bid.submitted", "opening.started",
            "expert_draw.committed", "expert_assignment.declined", "expert_panel.revealed",
            "evaluation.sheet_submitted", "evaluation_report.finalized", "candidate_publicity.started",
            "tender.publicity_ended", "award.published", "contract.signed"} <= actions, actions
    assert chain_verify().ok
    assert "done in" in text and "audit chain verifies" in text

    # The committee draw is public once the panel was revealed: anyone re-runs it from the public record
    # with the offline kit (no platform code), the commit event proven against a signed checkpoint.
    _draw_rerun_offline(tender, tmp_path)


def _draw_rerun_offline(tender, tmp_path) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings
    from rest_framework.test import APIClient

    from audit.checkpoints import checkpoint_create
    from audit.signing import platform_verifier_key
    from experts.models import Draw

    draw = Draw.objects.get(tender=tender)
    checkpoint_create()  # the beat task signs one every 5 minutes
    response = APIClient().get(f"/api/v1/draws/{draw.pk}/record")  # anonymous
    assert response.status_code == 200, response.content
    record = response.json()
    (tmp_path / "record.json").write_text(json.dumps(record), encoding="utf-8")
    kit = Path(settings.BASE_DIR) / "audit" / "verifier" / "ptrade_draw_verify.py"
    done = subprocess.run([sys.executable, "-I", str(kit), str(tmp_path / "record.json"),  # noqa: S603
                           "--key", platform_verifier_key()], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    panel = dict(draw.assignments.filter(status="accepted").values_list("seat", "expert_id"))
    assert len(panel) == 5
    for seat, expert in panel.items():
        assert f"seat {seat}: expert {expert}" in done.stdout


@pytest.mark.django_db
def test_demo_tender_refuses_in_production(settings):
    from trading.models import Tender

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("demo_tender", "--fast", stdout=io.StringIO())
    assert not Tender.objects.exists()
