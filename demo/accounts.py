"""Demo organisations and users for every role (seed_demo). Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.services import organisation_create, role_grant, user_create
from accounts.uscc import make_uscc

DEMO_PASSWORD = "ptrade-demo-2026"  # noqa: S105 - published demo password; seed_demo refuses production

# (key, name, 17-char USCC body, basic account)
ORGS = [
    ("tenderer", "市交通运输局 City Transport Bureau", "11330100MB0000001", "3301000000000001"),
    ("agent", "明诚招标代理有限公司 Mingcheng Tendering Agency", "91330100MA0000002", "3301000000000002"),
    ("supervisor", "市公共资源交易监督管理局 Supervision Bureau", "11330100MB0000003", "3301000000000003"),
    ("platform", "市公共资源交易中心 Trading Centre", "12330100MB0000004", "3301000000000004"),
    ("bidder1", "华建路桥集团有限公司 Huajian Road & Bridge", "91330100MA0000011", "6222000000000011"),
    ("bidder2", "东方市政工程有限公司 Dongfang Municipal", "91330100MA0000012", "6222000000000012"),
    ("bidder3", "新城建设股份有限公司 Xincheng Construction", "91330100MA0000013", "6222000000000013"),
    ("bidder4", "江南交通工程有限公司 Jiangnan Traffic Engineering", "91330100MA0000014", "6222000000000014"),
    ("bidder5", "恒通基础设施有限公司 Hengtong Infrastructure", "91330100MA0000015", "6222000000000015"),
]
EXPERT_EMPLOYERS = [
    ("univ", "城市建设学院 City Construction College", "12330100MB0000021", "3301000000000021"),
    ("design", "市政设计研究院 Municipal Design Institute", "12330100MB0000022", "3301000000000022"),
    ("audit", "正信会计师事务所 Zhengxin Accounting", "91330100MA0000023", "3301000000000023"),
]

# (username, organisation key, roles, display name)
USERS = [
    ("tenderer1", "tenderer", [Role.TENDERER], "王建国"),
    ("agent1", "agent", [Role.AGENT, Role.CUSTODIAN], "李明"),
    ("supervisor1", "supervisor", [Role.SUPERVISOR, Role.CUSTODIAN], "赵监督"),
    ("platform1", "platform", [Role.PLATFORM_ADMIN, Role.CUSTODIAN], "平台管理员"),
    *[(f"bidder{i}", f"bidder{i}", [Role.BIDDER], f"投标人{i}") for i in range(1, 6)],
]
EXPERT_COUNT = 60


@dataclass
class DemoAccount:
    username: str
    roles: list[str]
    organisation: str


def _org(key: str, name: str, body: str, account: str) -> Organisation:
    uscc = make_uscc(body)
    existing = Organisation.objects.filter(uscc=uscc).first()
    if existing:
        return existing
    return organisation_create(
        actor="system", name=name, uscc=uscc, basic_account_bank="中国工商银行 ICBC",
        basic_account_number=account, basic_account_name=name.split(" ")[0],
        contact_name="联系人", contact_phone="0571-8800" + account[-4:], contact_email=f"{key}@example.cn",
    )


def _user(username: str, org: Organisation | None, roles: list[str], name: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(actor="system", username=username, password=DEMO_PASSWORD, organisation=org,
                           roles=[str(r) for r in roles], first_name=name, email=f"{username}@example.cn")
    else:
        for role in roles:
            role_grant(actor="system", user=user, role=str(role), check=False)
    return user


@transaction.atomic
def seed_accounts() -> list[DemoAccount]:
    orgs = {key: _org(key, name, body, acct) for key, name, body, acct in ORGS + EXPERT_EMPLOYERS}
    accounts = []
    for username, org_key, roles, name in USERS:
        _user(username, orgs[org_key], roles, name)
        accounts.append(DemoAccount(username, [str(r) for r in roles], orgs[org_key].name))
    for i in range(1, EXPERT_COUNT + 1):
        employer = orgs[EXPERT_EMPLOYERS[i % len(EXPERT_EMPLOYERS)][0]]
        _user(f"expert{i:02d}", employer, [Role.EXPERT], f"专家{i:02d}")
    accounts.append(DemoAccount(f"expert01 … expert{EXPERT_COUNT:02d}", [Role.EXPERT], "3 employers"))
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = user_create(actor="system", username="admin", password=DEMO_PASSWORD, organisation=orgs["platform"],
                            roles=[Role.PLATFORM_ADMIN], is_staff=True, is_superuser=True, first_name="Admin")
    accounts.append(DemoAccount("admin", ["superuser", Role.PLATFORM_ADMIN], orgs["platform"].name))
    return accounts
