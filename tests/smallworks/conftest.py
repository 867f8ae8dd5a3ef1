"""Fixed-price comparison fixtures: the trading cast (five enterprises), a movable clock, a signing bank."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.fixtures.directory import _english, _media_root  # noqa: F401  (fixtures)
from tests.trading.conftest import _opening_detached  # noqa: F401  (fixture)

BANK_SECRET = "test-bank-secret"


@pytest.fixture(autouse=True)
def _bank_settings(settings):
    settings.BANK_WEBHOOK_SECRET = BANK_SECRET


@pytest.fixture
def fp(make_org, make_user):
    """Tenderer, agent, five enterprises with a bidder user each, a supervisor, a citizen."""

    class Cast:
        pass

    c = Cast()
    c.tenderer_org = make_org("Shifang Town Works Office")
    c.agent_org = make_org("Fixed Price Agent Co")
    c.tenderer = make_user("tenderer", org=c.tenderer_org)
    c.agent = make_user("agent", org=c.agent_org)
    c.orgs = [make_org(f"Builder {i} Ltd") for i in range(1, 6)]
    c.bidders = [make_user("bidder", org=o) for o in c.orgs]
    c.supervisor = make_user("supervisor")
    c.citizen = make_user()
    return c


def document(name: str = "licence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 qualification document " + name.encode(), "application/pdf")


def pay(api, entry) -> None:
    """The bank reports the deposit arriving from the enterprise's basic account (signed notification)."""
    from tests.trading.deposits.conftest import make_transfer, signed_post
    from trading.deposits import bankmsg
    from trading.models import DepositAccount

    account = DepositAccount.objects.get(registration_id=entry.registration_id)
    response = signed_post(api, bankmsg.notification_body(make_transfer(account, str(entry.project.deposit_amount))),
                           secret=BANK_SECRET)
    assert response.status_code in (200, 201, 202), response.content


@pytest.fixture
def make_project(fp, clock):  # noqa: F811 - the imported fixture
    from smallworks.services import project_create, project_publish

    def make(*, publish: bool = True, deposit=Decimal("20000.00"), reserves: int = 2, **fields):
        project = project_create(
            actor=fp.agent, tenderer=fp.tenderer_org, title=fields.pop("title", "Village road repair"),
            contract_price=fields.pop("contract_price", Decimal("1500000.00")),
            qualification_conditions=["Works contractor licence, road class 3 or above", "Safety production permit"],
            registration_ends_at=clock.now() + timedelta(days=5), drawing_at=clock.now() + timedelta(days=9),
            signing_days=5, reserves=reserves, deposit_amount=deposit, **fields)
        if publish:
            project_publish(actor=fp.agent, project=project)
            project.refresh_from_db()
        return project

    return make


@pytest.fixture
def reviewed(fp, clock, make_project, api):  # noqa: F811 - the imported fixture
    """A project with the five enterprises registered, paid and qualified, result published, objections over."""
    from smallworks.services import entry_register, entry_review, review_publish

    def make(**kwargs):
        project = make_project(**kwargs)
        entries = [entry_register(actor=b, project=project, documents=[document()])[0] for b in fp.bidders]
        for e in entries:
            if project.deposit_amount > 0:
                pay(api, e)
        clock.advance(days=5, minutes=1)
        for e in entries:
            entry_review(actor=fp.agent, entry=e, passed=True, reasons="licence and permit valid")
        review_publish(actor=fp.agent, project=project)
        clock.advance(days=4)
        project.refresh_from_db()
        return project

    return make
