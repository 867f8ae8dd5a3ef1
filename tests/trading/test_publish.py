"""Publish-time rule checks (each rule allowed and refused, named with its legal source) and publication."""

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audit.canonical import canonical_bytes
from audit.models import AuditEvent
from audit.selectors import chain_verify
from config.errors import NotPermitted, RuleViolation, StateConflict
from trading.models import Notice, ScheduledStep, TenderStatus
from trading.services.tenders import lot_update, publish_problems, tender_publish, tender_update

DAY = timedelta(days=1)
MIN = timedelta(minutes=1)


def refused(tender, actor):
    with pytest.raises(RuleViolation) as exc:
        tender_publish(actor=actor, tender=tender)
    tender.refresh_from_db()
    assert tender.status == TenderStatus.DRAFT
    return exc.value


def test_documents_to_deadline_20_days(make_draft, cast, clock):
    tender = make_draft(deadline_in=19 * DAY)
    err = refused(tender, cast.agent)
    assert "招标投标法 Art 24" in err.message and "bid_deadline" in err.fields
    tender_update(actor=cast.agent, tender=tender, bid_deadline=clock.now() + 20 * DAY + MIN)
    tender_publish(actor=cast.agent, tender=tender)
    assert tender.status == TenderStatus.PUBLISHED


def test_government_procurement_cites_its_own_law(make_draft, cast):
    tender = make_draft(procedure_type="government_procurement", deadline_in=15 * DAY)
    err = refused(tender, cast.agent)
    assert "政府采购法 Art 35" in err.message


def test_documents_available_5_days(make_draft, cast, clock):
    tender = make_draft(documents_available_until=clock.now() + 4 * DAY)
    err = refused(tender, cast.agent)
    assert "招标投标法实施条例 Art 16" in err.message and "documents_available_until" in err.fields
    tender_update(actor=cast.agent, tender=tender, documents_available_until=clock.now() + 5 * DAY + MIN)
    tender_publish(actor=cast.agent, tender=tender)
    assert tender.documents_available_until > tender.documents_issued_at + 5 * DAY


def test_government_procurement_5_working_days(make_draft, cast, clock):
    wednesday = datetime(2030, 1, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    clock.move_to(wednesday)
    # 6 calendar days from a Wednesday include a weekend: only 4 working days.
    tender = make_draft(procedure_type="government_procurement", documents_available_until=wednesday + 6 * DAY)
    err = refused(tender, cast.agent)
    assert "政府采购法实施条例 Art 31" in err.message
    tender_update(actor=cast.agent, tender=tender, documents_available_until=wednesday + 7 * DAY + MIN)
    assert publish_problems(tender, at=clock.now()) == []


def test_deposit_at_most_2_percent(make_draft, cast):
    tender = make_draft(estimated_price=Decimal("1000000.00"), deposit=Decimal("20000.01"))
    err = refused(tender, cast.agent)
    assert "招标投标法实施条例 Art 26" in err.message and "lots.1.deposit_amount" in err.fields
    lot_update(actor=cast.agent, lot=tender.lots.get(), deposit_amount=Decimal("20000.00"))
    tender_publish(actor=cast.agent, tender=tender)


def test_government_procurement_deposit_source(make_draft, cast):
    tender = make_draft(
        procedure_type="government_procurement", estimated_price=Decimal("1000000.00"), deposit=Decimal("30000")
    )
    assert "政府采购法实施条例 Art 33" in refused(tender, cast.agent).message


def test_works_deposit_cap_800000(make_draft, cast):
    tender = make_draft(estimated_price=Decimal("100000000.00"), deposit=Decimal("800000.01"))
    err = refused(tender, cast.agent)
    assert "工程建设项目施工招标投标办法 Art 37" in err.message
    assert "招标投标法实施条例 Art 26" not in err.message  # 2 % of 100M is 2M: only the cap fails
    lot_update(actor=cast.agent, lot=tender.lots.get(), deposit_amount=Decimal("800000.00"))
    tender_publish(actor=cast.agent, tender=tender)


def test_goods_have_no_absolute_cap(make_draft, cast):
    tender = make_draft(procedure_type="goods", estimated_price=Decimal("100000000.00"), deposit=Decimal("1500000"))
    tender_publish(actor=cast.agent, tender=tender)
    assert tender.status == TenderStatus.PUBLISHED


def test_every_failed_rule_is_named(make_draft, cast, clock):
    tender = make_draft(
        deadline_in=10 * DAY,
        documents_available_until=clock.now() + 2 * DAY,
        estimated_price=Decimal("100000000.00"),
        deposit=Decimal("3000000"),
    )
    err = refused(tender, cast.agent)
    for source in (
        "招标投标法 Art 24",
        "招标投标法实施条例 Art 16",
        "招标投标法实施条例 Art 26",
        "工程建设项目施工招标投标办法 Art 37",
    ):
        assert source in err.message
    assert {p.rule for p in publish_problems(tender)} == {
        "documents_to_deadline",
        "documents_available",
        "deposit_max_percent",
        "deposit_cap",
    }


def test_lots_and_documents_required(make_draft, cast):
    tender = make_draft(document=False)
    tender.lots.all().delete()
    err = refused(tender, cast.agent)
    assert set(err.fields) >= {"lots", "documents"}


def test_publication_notice_audit_and_deadline_step(make_draft, cast):
    tender = make_draft()
    notice = tender_publish(actor=cast.agent, tender=tender)
    tender.refresh_from_db()
    assert tender.status == TenderStatus.PUBLISHED and tender.published_at and tender.documents_issued_at
    assert tender.documents_available_until == tender.bid_deadline
    assert notice.kind == "tender" and notice.version == 1
    assert notice.content_sha256 == hashlib.sha256(canonical_bytes(notice.content())).hexdigest()
    event = AuditEvent.objects.get(action="notice.published")
    assert event.data["content_sha256"] == notice.content_sha256 and event.data["tender"] == tender.pk
    assert event.data["documents"][0]["sha256"] == tender.documents.get().sha256
    step = ScheduledStep.objects.get(kind="bid_deadline", tender=tender)
    assert step.due_at == tender.bid_deadline and step.done_at is None
    assert chain_verify().ok


def test_published_notice_is_immutable(published):
    notice = Notice.objects.get(tender=published)
    notice.body = "forged"
    with pytest.raises(Exception, match="immutable"):
        notice.save()
    with pytest.raises(Exception, match="immutable"):
        notice.delete()


def test_publish_twice_and_edit_after_publish_refused(published, cast, clock):
    with pytest.raises(StateConflict):
        tender_publish(actor=cast.agent, tender=published)
    with pytest.raises(StateConflict):
        tender_update(actor=cast.agent, tender=published, title="changed")


def test_only_the_tenders_agent_publishes(make_draft, cast, make_user):
    tender = make_draft()
    other_agent = make_user("agent")
    for user in (other_agent, cast.tenderer, cast.bidders[0], cast.supervisor):
        with pytest.raises(NotPermitted):
            tender_publish(actor=user, tender=tender)
