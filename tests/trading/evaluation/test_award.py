"""Award notice and letter, contract within 30 days, refund triggering (contract; award for government
procurement), a winner refusing to sign (forfeit, next candidate)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from audit.signing import verify_receipt
from config.errors import DomainError, NotPermitted, RuleViolation, StateConflict
from tests.trading.evaluation.helpers import concluded
from trading.evaluation import sources
from trading.evaluation.models import AwardStatus
from trading.evaluation.services import award as award_services
from trading.evaluation.services import publicity as pub
from trading.models import Notice, NoticeKind, TenderStatus
from trading.services.scheduling import steps_run_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def deposits(monkeypatch):
    """Records the calls to the deposits module's entry points (trading/evaluation/sources.py)."""
    calls = []

    def entry(name):
        def fn(**kwargs):
            calls.append((name, kwargs))

        fn.__name__ = name
        fn.__module__ = "fake_deposits"
        return fn

    for name in ("deposit_refunds_schedule_after_award", "deposit_refunds_schedule_after_contract",
                 "deposit_forfeit"):
        monkeypatch.setattr(sources, name, entry(name))
    return calls


def _after_publicity(w, fake, clock, **kw):
    session, report, members = concluded(w, fake, **kw)
    publicity = pub.publicity_start(actor=w.agent, tender=w.tender)
    clock.move_to(publicity.ends_at + timedelta(seconds=1))
    steps_run_due()
    return session, report


def test_award_contract_and_refunds_after_the_contract(make_world, fake, clock, deposits):
    w = make_world()
    _session, report = _after_publicity(w, fake, clock)
    with pytest.raises(NotPermitted):
        award_services.award_publish(actor=w.tenderer, tender=w.tender)
    [award] = award_services.award_publish(actor=w.agent, tender=w.tender)
    w.tender.refresh_from_db()
    assert w.tender.status == TenderStatus.AWARDED
    assert award.rank == 1 and award.bid.bidder_id == w.bidders[2].organisation_id  # C, 100.00
    assert award.contract_due_at == award.awarded_at + timedelta(days=30)
    letter = award.letter["receipt"]
    assert verify_receipt(award.letter) and letter["report_sha256"] == report.sha256 and letter["price"] == "100.00"
    assert Notice.objects.get(tender=w.tender, kind=NoticeKind.AWARD_RESULT).pk == award.notice_id
    assert deposits == []  # works: losers wait for the contract (实施条例 Art 57)

    clock.advance(days=12)
    with pytest.raises(RuleViolation) as price:  # same price as the winning bid (实施条例 Art 57)
        award_services.contract_record(actor=w.tenderer, award=award, signed_at=clock.now(), amount=Decimal("99.00"))
    assert price.value.code == "contract_price"
    with pytest.raises(DomainError):
        award_services.contract_record(actor=w.tenderer, award=award, signed_at=clock.now() + timedelta(hours=1))
    with pytest.raises(NotPermitted):
        award_services.contract_record(actor=w.bidders[2], award=award, signed_at=clock.now())
    signed_at = clock.now() - timedelta(hours=3)
    contract = award_services.contract_record(actor=w.tenderer, award=award, signed_at=signed_at,
                                              document_sha256="ab" * 32)
    w.tender.refresh_from_db()
    assert w.tender.status == TenderStatus.CONTRACTED and not contract.late and contract.amount == Decimal("100.00")
    assert deposits == [("deposit_refunds_schedule_after_contract",
                         {"tender": w.tender, "contract_signed_at": signed_at, "lot": w.lot})]
    requested = AuditEvent.objects.get(action="deposit_refunds.requested")
    assert requested.data["handled_by"] == "fake_deposits.deposit_refunds_schedule_after_contract"
    clock.move_to(award.contract_due_at + timedelta(minutes=1))
    steps_run_due()
    assert not AuditEvent.objects.filter(action="award.contract_overdue").exists()


def test_government_procurement_refunds_losers_after_the_award_notice(make_world, fake, clock, deposits):
    w = make_world(procedure_type="government_procurement")
    _after_publicity(w, fake, clock)
    [award] = award_services.award_publish(actor=w.agent, tender=w.tender)
    assert deposits == [("deposit_refunds_schedule_after_award",
                         {"tender": w.tender, "award_notice_at": award.awarded_at,
                          "winners": {award.bid.bidder_id}})]
    award_services.contract_record(actor=w.agent, award=award, signed_at=clock.now())
    assert [name for name, _ in deposits] == ["deposit_refunds_schedule_after_award",
                                              "deposit_refunds_schedule_after_contract"]


def test_a_late_contract_is_flagged_and_the_step_warns_first(make_world, fake, clock, deposits):
    w = make_world()
    _after_publicity(w, fake, clock)
    [award] = award_services.award_publish(actor=w.agent, tender=w.tender)
    clock.move_to(award.contract_due_at + timedelta(days=2))
    steps_run_due()
    overdue = AuditEvent.objects.get(action="award.contract_overdue")
    assert overdue.data["award"] == award.pk
    contract = award_services.contract_record(actor=w.agent, award=award, signed_at=clock.now())
    assert contract.late is True


def test_a_winner_refusing_to_sign_forfeits_and_the_next_candidate_wins(make_world, fake, clock, deposits):
    w = make_world()
    _after_publicity(w, fake, clock)
    [award] = award_services.award_publish(actor=w.agent, tender=w.tender)
    with pytest.raises(StateConflict):  # the award is in force
        award_services.award_next(actor=w.agent, lot=w.lot)
    award = award_services.award_decline(actor=w.tenderer, award=award, reason="The winner refused to sign.")
    assert award.status == AwardStatus.DECLINED
    assert deposits == []  # no registration behind the scripted read-out: nothing to forfeit
    second = award_services.award_next(actor=w.agent, lot=w.lot)
    assert second.rank == 2 and second.bid.bidder_id == w.bidders[1].organisation_id  # B, 200.00
    w.tender.refresh_from_db()
    assert w.tender.status == TenderStatus.AWARDED
    assert Notice.objects.filter(tender=w.tender, kind=NoticeKind.AWARD_RESULT).count() == 2
    award_services.award_decline(actor=w.agent, award=second, reason="Refused too.")
    third = award_services.award_next(actor=w.agent, lot=w.lot)
    assert third.rank == 3
    award_services.award_decline(actor=w.agent, award=third, reason="Refused as well.")
    with pytest.raises(StateConflict) as none_left:
        award_services.award_next(actor=w.agent, lot=w.lot)
    assert none_left.value.code == "no_candidates"


def test_forfeit_goes_to_the_deposits_module_with_the_registration(make_world, fake, clock, deposits):
    from trading.models import Registration

    w = make_world()
    session, _report, _members = concluded(w, fake)
    winner = session.bids.get(bidder_id=w.bidders[2].organisation_id)
    registration = Registration.objects.create(lot=w.lot, tender=w.tender, bidder=w.bidders[2].organisation,
                                               registered_by=w.bidders[2], created_at=clock.now(),
                                               updated_at=clock.now())
    winner.registration_id = registration.pk
    winner.save(update_fields=["registration_id"])
    publicity = pub.publicity_start(actor=w.agent, tender=w.tender)
    clock.move_to(publicity.ends_at + timedelta(seconds=1))
    steps_run_due()
    [award] = award_services.award_publish(actor=w.agent, tender=w.tender)
    award_services.award_decline(actor=w.agent, award=award, reason="Refused the contract terms.")
    assert deposits == [("deposit_forfeit", {"registration": registration, "reason": "winner_refused_contract",
                                             "source": "招标投标法实施条例 Art 74",
                                             "note": "Refused the contract terms."})]


def test_no_award_before_the_publicity_or_without_candidates(make_world, fake, clock):
    w = make_world()
    with pytest.raises(StateConflict):
        award_services.award_publish(actor=w.agent, tender=w.tender)
    everyone_fails = {i: "Non-compliant" for i in range(4)}
    _after_publicity(w, fake, clock, fail=everyone_fails)
    with pytest.raises(StateConflict) as none:
        award_services.award_publish(actor=w.agent, tender=w.tender)
    assert none.value.code == "no_candidates"
