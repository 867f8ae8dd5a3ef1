"""Refund origins (trading/deposits/origins.py): instructions for deposits another app holds, paid and
reported through the deposits' own paths (export, webhook, statement), the origin's handler called once
executed; the registry; idempotent instruction (docs/deposits.md, "Refund origins")."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from trading import clock
from trading.deposits.bankmsg import Transfer
from trading.deposits.origins import RefundOrigin, refund_origin_get, refund_origin_register
from trading.deposits.services.instructions import refund_instructions_export
from trading.deposits.services.origin_refunds import (
    OriginPayment,
    origin_refund_instruct,
    origin_refunds_settled,
)
from trading.deposits.services.statements import statement_import
from trading.deposits.statement import write_statement
from trading.models import ScheduledStep
from trading.models.deposit import RefundInstruction, RefundStatus

pytestmark = pytest.mark.django_db
CALLS: list[tuple[str, str]] = []
KEY = "tests.holder"


def _executed(instruction, *, txn_id):
    CALLS.append((instruction.origin_ref, txn_id))


refund_origin_register(RefundOrigin(key=KEY, executed=_executed, sealed=lambda ref: ref == "sealed"))


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


def _instruct(ref="7", payments=None):
    return origin_refund_instruct(
        origin=KEY, origin_ref=ref, from_account="6230 0000 0000 0012 3",
        payments=payments or [OriginPayment("6222-0000-0000-0001", Decimal("5000.00"), "Holder Co", "Some Bank")],
        due_at=clock.now(), trigger="holder_refund", legal_source="some rule Art 1")


def test_the_registry_refuses_a_second_handler_and_unknown_keys():
    assert refund_origin_get(KEY).executed is _executed
    with pytest.raises(RuntimeError):
        refund_origin_register(RefundOrigin(key=KEY, executed=lambda i, *, txn_id: None))
    with pytest.raises(LookupError):
        origin_refund_instruct(origin="nobody.here", origin_ref="1", payments=[], from_account="1",
                               due_at=clock.now(), trigger="x", legal_source="y")


def test_instructions_are_idempotent_and_cover_only_what_is_new():
    [first] = _instruct()
    assert (first.account_id, first.tender_id, first.interest, first.total) == (None, None, 0, Decimal("5000.00"))
    assert first.from_account == "62300000000000123" and first.payee_account == "6222000000000001"
    assert ScheduledStep.objects.filter(kind="deposit_refund_overdue",
                                        subject=f"trading.refundinstruction:{first.pk}").exists()
    assert _instruct() == []
    [more] = _instruct(payments=[OriginPayment("6222000000000001", Decimal("5200.00"))])
    assert more.total == Decimal("200.00")


def test_execution_by_statement_line_calls_the_origin_once():
    [instruction] = _instruct(ref="9")
    rows, _csv = refund_instructions_export(actor="system", bank=True)
    assert [r["reference"] for r in rows] == [instruction.reference]
    line = Transfer(kind="refund", txn_id="ST-1", virtual_account=instruction.from_account, amount=instruction.total,
                    booked_at=clock.now(), counterparty_account=instruction.payee_account,
                    counterparty_name="Holder Co", counterparty_bank="Some Bank", reference=instruction.reference,
                    status="executed")
    out = io.StringIO()
    write_statement(out, [line])
    statement_import(actor="system", data=out.getvalue().encode())
    statement_import(actor="system", data=out.getvalue().encode(), file_name="again.csv")  # re-import: nothing
    assert CALLS == [("9", "ST-1")]
    instruction.refresh_from_db()
    assert instruction.status == RefundStatus.EXECUTED
    assert origin_refunds_settled(origin=KEY, origin_ref="9")
    assert not origin_refunds_settled(origin=KEY, origin_ref="10")


def test_the_origin_decides_whether_the_payee_is_masked():
    from trading.deposits.selectors import instruction_is_sealed

    [hidden] = _instruct(ref="sealed")
    [shown] = _instruct(ref="11")
    assert instruction_is_sealed(hidden) and not instruction_is_sealed(shown)
    assert RefundInstruction.objects.filter(origin=KEY).count() == 2
