"""Online registration: deposit instructions, conflicts of interest, deadline, sealing in audit events."""

import hashlib
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from audit.models import AuditEvent
from audit.sealed import stored_opened
from config.errors import NotPermitted, RuleViolation, StateConflict
from trading.models import RegistrationStatus
from trading.services import deposit_hook
from trading.services.registrations import registration_create, registration_withdraw
from trading.services.tender_status import tender_transition


def test_register_returns_deposit_instructions(published, cast, settings):
    settings.PLATFORM_COLLECTION_ACCOUNT = {
        "bank": "ICBC Hangzhou",
        "account_name": "Trading Center",
        "account_number": "1202000000000001",
    }
    lot = published.lots.get()
    registration, instructions = registration_create(actor=cast.bidders[0], lot=lot)
    assert registration.status == RegistrationStatus.REGISTERED and registration.bidder == cast.bidder_orgs[0]
    assert instructions["amount"] == Decimal("100000.00") and instructions["currency"] == "CNY"
    assert instructions["required"] is True
    assert instructions["payee_account"]["account_number"] == "1202000000000001"
    # The deposits module opens the registration's virtual sub-account (tests/trading/deposits/).
    assert instructions["virtual_account"]["account_number"] == registration.deposit_account.number
    assert instructions["payer_account"]["account_number"] == cast.bidder_orgs[0].basic_account_number
    assert "招标投标法实施条例 Art 26" in instructions["payer_rule"]
    assert instructions["due_before"] == published.bid_deadline


def test_default_collection_account(published, cast, settings):
    if hasattr(settings, "PLATFORM_COLLECTION_ACCOUNT"):
        del settings.PLATFORM_COLLECTION_ACCOUNT
    lot = published.lots.get()
    registration, instructions = registration_create(actor=cast.bidders[0], lot=lot)
    assert instructions["payee_account"] == deposit_hook.DEFAULT_COLLECTION_ACCOUNT
    assert instructions["virtual_account"]["account_number"] == registration.deposit_account.number
    assert instructions["virtual_account"]["parent_account_number"] == (
        deposit_hook.DEFAULT_COLLECTION_ACCOUNT["account_number"])


def test_zero_deposit_is_not_required(make_draft, cast):
    from trading.services.tenders import tender_publish

    tender = make_draft(deposit=Decimal(0))
    tender_publish(actor=cast.agent, tender=tender)
    _, instructions = registration_create(actor=cast.bidders[0], lot=tender.lots.get())
    assert instructions["required"] is False


def test_audit_event_carries_only_hashes(published, cast):
    registration_create(actor=cast.bidders[0], lot=published.lots.get())
    assert not AuditEvent.objects.filter(action="registration.created").exists()  # sealed until the deadline
    [opened] = stored_opened(published.pk, "registration.created")
    event = SimpleNamespace(**opened)
    assert event.actor == "system"
    org = cast.bidder_orgs[0]
    assert event.data["bidder_hash"] == hashlib.sha256(f"org:{org.pk}:{published.seal_salt}".encode()).hexdigest()
    text = str(event.data) + event.object
    assert org.name not in text and str(cast.bidders[0].pk) != event.actor
    assert "bidder" not in event.data  # no plain id
    assert event.data["tender"] == published.pk


def test_double_registration_refused_and_reregistration_after_withdrawal(published, cast):
    lot = published.lots.get()
    registration, _ = registration_create(actor=cast.bidders[0], lot=lot)
    with pytest.raises(StateConflict):
        registration_create(actor=cast.bidders[0], lot=lot)
    registration_withdraw(actor=cast.bidders[0], registration=registration)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.WITHDRAWN
    with pytest.raises(StateConflict):
        registration_withdraw(actor=cast.bidders[0], registration=registration)
    again, _ = registration_create(actor=cast.bidders[0], lot=lot)
    assert again.pk == registration.pk and again.status == RegistrationStatus.REGISTERED


def test_other_bidder_cannot_withdraw(published, cast):
    registration, _ = registration_create(actor=cast.bidders[0], lot=published.lots.get())
    with pytest.raises(NotPermitted):
        registration_withdraw(actor=cast.bidders[1], registration=registration)


def test_agent_and_tenderer_organisations_may_not_register(published, cast, make_user):
    agent_staff_bidder = make_user("bidder", org=cast.agent_org)
    with pytest.raises(RuleViolation, match="Art 13"):
        registration_create(actor=agent_staff_bidder, lot=published.lots.get())
    tenderer_staff_bidder = make_user("bidder", org=cast.tenderer_org)
    with pytest.raises(RuleViolation, match="Art 34"):
        registration_create(actor=tenderer_staff_bidder, lot=published.lots.get())


def test_non_bidders_cannot_register(published, cast):
    for user in (cast.agent, cast.supervisor, cast.public_user):
        with pytest.raises(NotPermitted):
            registration_create(actor=user, lot=published.lots.get())


def test_registration_uses_server_time_for_the_deadline(published, cast, clock):
    clock.move_to(published.bid_deadline - timedelta(seconds=1))
    registration_create(actor=cast.bidders[0], lot=published.lots.get())
    clock.move_to(published.bid_deadline)  # the deadline task has not run: the check still refuses
    with pytest.raises(RuleViolation) as exc:
        registration_create(actor=cast.bidders[1], lot=published.lots.get())
    assert exc.value.code == "deadline_passed"


def test_registration_refused_on_draft_and_suspended(make_draft, published, cast):
    draft = make_draft()
    with pytest.raises(StateConflict):
        registration_create(actor=cast.bidders[0], lot=draft.lots.get())
    tender_transition(actor="system", tender=published, to="suspended")
    with pytest.raises(StateConflict) as exc:
        registration_create(actor=cast.bidders[0], lot=published.lots.get())
    assert "Art 22" in exc.value.message
