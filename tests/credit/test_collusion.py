"""A collusion signal confirmed by a supervisor proposes a record for each bidder it names, with the
check's event and the confirmation as evidence."""

from __future__ import annotations

from audit.models import AuditEvent
from audit.services import audit_record
from credit.models import CreditRecord
from credit.rules import RecordKind
from supervision.models import CollusionRun, CollusionSignal


def test_confirmed_signal_proposes_records(cast, clock, api):
    run = CollusionRun.objects.create(tender_id=1, computed_at=clock.now(), trigger="supervisor", actor="1",
                                      evidence_sha256="0" * 64)
    run.audit_seq = audit_record(actor="system", action="collusion.checked", obj="trading.tender:1",
                                 data={"tender": 1, "check": run.pk}).seq
    run.save(update_fields=["audit_seq"])
    signal = CollusionSignal.objects.create(run=run, kind="identical_files", severity="red",
                                            bidders=[o.pk for o in cast.bidder_orgs[:2]], evidence={"sha256": "ab"})
    url = f"/api/v1/audit/collusion-signals/{signal.pk}/confirm"
    assert api.as_user(cast.bidders[0]).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api.as_user(cast.supervisor).post(url, {}, format="json").status_code == 400
    r = api.as_user(cast.supervisor).post(url, {"reason": "same author, same machine; investigated"}, format="json")
    assert r.status_code == 201, r.content
    records = CreditRecord.objects.filter(number__in=r.json()["records"]).order_by("organisation_id")
    assert [x.organisation_id for x in records] == [o.pk for o in cast.bidder_orgs[:2]]
    confirm = AuditEvent.objects.get(action="collusion.signal_confirmed")
    for record in records:
        assert record.kind == RecordKind.COLLUSION and record.proposed_by == str(cast.supervisor.pk)
        assert [e["seq"] for e in record.evidence] == [run.audit_seq, confirm.seq]
    # Confirming again proposes nothing new.
    api.as_user(cast.supervisor).post(url, {"reason": "again"}, format="json")
    assert CreditRecord.objects.count() == 2
