"""`manage.py demo_fixed_price`: one fixed-price comparison from notice to contract (docs/smallworks.md, "Demo").

Played through the real services by a cast created for the run (agent, tenderer, five enterprises,
a supervisor), on a demo clock: `trading.clock.now` is replaced for the duration of the run by real
time plus an offset that the script jumps forward (registration end, objection period, signing
period, publicity) — the replacement `trading/clock.py` documents for demos. Deposits arrive as
signed bank notifications (demo.actors.bank_transfer_report). Refused in production.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.services import organisation_create, user_create
from accounts.uscc import make_uscc
from credit.models import CreditRecord
from credit.services import record_decide
from demo.accounts import DEMO_PASSWORD
from demo.actors import bank_transfer_report
from smallworks import services
from smallworks.models import Pick, PickStatus, Project
from smallworks.publication import drawing_public_record, record_recompute
from trading import clock
from trading.models import DepositAccount
from trading.services.scheduling import steps_run_due


class DemoRefused(RuntimeError):
    pass


@dataclass
class DemoResult:
    code: str
    status: str
    contractor: str
    lapsed: str
    record: str


@contextmanager
def demo_clock() -> Iterator[Callable[..., None]]:
    """Replace trading.clock.now by real time + an offset; yields `jump(**timedelta kwargs)`."""
    offset = [timedelta()]
    original = clock.now

    def now():
        return timezone.now() + offset[0]

    def jump(**kwargs) -> None:
        offset[0] += timedelta(**kwargs)

    clock.now = now
    try:
        yield jump
    finally:
        clock.now = original


def _cast(tag: str):
    def org(name: str):
        body = "91510682" + "".join(secrets.choice("0123456789") for _ in range(9))
        return organisation_create(actor="system", name=f"{name} {tag}", uscc=make_uscc(body),
                                   basic_account_bank="中国农业银行 ABC", basic_account_name=f"{name} {tag}",
                                   basic_account_number="6228" + "".join(secrets.choice("0123456789")
                                                                         for _ in range(12)))

    def user(prefix: str, organisation, role: str):
        return user_create(actor="system", username=f"fp-{prefix}-{tag}", password=DEMO_PASSWORD,
                           organisation=organisation, roles=[role])

    tenderer = org("什邡市某镇人民政府")
    agent_org = org("什邡招标代理有限公司")
    builders = [org(f"四川建工{n}号有限公司") for n in range(1, 6)]
    return (tenderer, user("agent", agent_org, "agent"), [user(f"b{i}", o, "bidder") for i, o in enumerate(builders)],
            user_create(actor="system", username=f"fp-supervisor-{tag}", password=DEMO_PASSWORD, roles=["supervisor"]))


def demo_fixed_price_run(say: Callable[[str], None]) -> DemoResult:
    if getattr(settings, "PRODUCTION", False):
        raise DemoRefused("demo_fixed_price is refused in production (PTRADE_PRODUCTION=1)")
    tag = secrets.token_hex(3)
    tenderer, agent, bidders, supervisor = _cast(tag)
    with demo_clock() as jump:
        project = services.project_create(
            actor=agent, tenderer=tenderer, title=f"村道维修工程 {tag}", contract_price=Decimal("1680000.00"),
            qualification_conditions=["市政公用工程施工总承包三级及以上资质", "有效的安全生产许可证"],
            registration_ends_at=clock.now() + timedelta(days=5), drawing_at=clock.now() + timedelta(days=9),
            signing_days=5, reserves=2, deposit_amount=Decimal("20000.00"))
        services.project_publish(actor=agent, project=project)
        say(f"{project.code}: notice published, fixed price 1,680,000.00 yuan, deposit 20,000.00")
        entries = []
        for user in bidders:
            pdf = SimpleUploadedFile("资质证书.pdf", b"%PDF-1.4 demo " + user.username.encode(), "application/pdf")
            entry, instructions = services.entry_register(actor=user, project=project, documents=[pdf])
            entries.append(entry)
            if user is not bidders[-1]:  # the last one never pays
                bank_transfer_report(account_number=instructions["virtual_account"]["account_number"],
                                     payer=user.organisation, amount=instructions["amount"])
        say(f"{len(entries)} enterprises registered; {len(entries) - 1} deposits arrived from basic accounts")
        jump(days=5, minutes=1)
        for entry in entries:
            paid = services.deposit_status(entry) == "paid"
            services.entry_review(actor=agent, entry=entry, passed=paid,
                                  reasons="资质、安全生产许可证有效" if paid else "保证金未从基本账户到账")
        services.review_publish(actor=agent, project=project)
        objection = services.objection_raise(actor=bidders[-1], project=project, text="我公司已缴纳保证金")
        services.objection_reply(actor=agent, objection=objection, reply="未收到贵公司基本账户的转账", upheld=False)
        say("qualification result published (4 qualified, 1 failed with reasons); one objection answered")
        jump(days=4)
        drawing = services.drawing_start(actor=agent, project=project)
        order = [p.organisation.name for p in drawing.picks.select_related("organisation").order_by("position")]
        say(f"drawing: seed committed (event {drawing.commit_seq}), entropy {drawing.entropy[:16]}…; "
            f"drawn {order[0]}, reserves {', '.join(order[1:])}")
        first = drawing.picks.get(position=0)
        jump(days=2, hours=12, minutes=1)
        steps_run_due()
        say("half the signing period passed: supervision warning raised")
        jump(days=2, hours=12, minutes=1)
        steps_run_due()
        first.refresh_from_db()
        account = DepositAccount.objects.get(registration__bidder=first.organisation, tender=project.carrier)
        record = CreditRecord.objects.filter(organisation=first.organisation).order_by("-pk").first()
        say(f"{first.organisation.name} did not sign ({first.status}): deposit forfeited "
            f"({account.forfeited_total}), record {record.number} proposed")
        record_decide(actor=supervisor, record=record, publish=True, reason="逾期未签约，保证金已没收")
        record.refresh_from_db()
        say(f"supervisor published {record.number}; barred until {timezone.localtime(record.bar_until):%Y-%m-%d}")
        called = Pick.objects.get(drawing=drawing, status=PickStatus.CALLED)
        signer = next(u for u in bidders if u.organisation_id == called.organisation_id)
        services.pick_confirm(actor=signer, pick=called)
        say(f"reserve {called.position} ({called.organisation.name}) confirmed and signed; result in publicity")
        jump(days=3, minutes=1)
        project = services.contract_record(actor=agent, project=Project.objects.get(pk=project.pk))
        refunds = DepositAccount.objects.filter(tender=project.carrier, refund_trigger="contract").count()
        say(f"contract recorded; deposits of {refunds} enterprises scheduled for refund")
        recomputed = record_recompute(drawing_public_record(drawing))
        say(f"recomputed from the public record: {recomputed} (matches)")
        return DemoResult(code=project.code, status=project.status, contractor=called.organisation.name,
                          lapsed=first.organisation.name, record=record.number)
