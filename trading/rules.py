"""Every legal number of the tendering process, in one place.

Each number is a `LegalNumber` with its value, unit, legal source (the string
shown in refusals, e.g. "招标投标法 Art 24") and a comment. The numbers are
grouped per procedure type (works / goods / services / government procurement)
in a frozen `ProcedureRules`; code asks `rules_for(tender.procedure_type)` and
never writes a number of its own.

Time
----
Periods are measured as exact time spans from the triggering instant (a
document issued at 10:00 on day D with a 20-day minimum allows a deadline from
10:00 on day D+20). The statute's "the first day is not counted" (民法典 Art 201)
therefore gives the same or a slightly later earliest instant; the platform is
never more lenient than the law.

Working days (government procurement) are Monday to Friday. There is no holiday
calendar: public holidays and the make-up working weekends (调休) are not
modelled, so a period that spans a holiday is shorter than the statute allows
and the agent must choose dates with margin. Documented in docs/tendering.md.

Sandbox acceleration (ProZorro-style): every period is divided by
`settings.SANDBOX_TIME_ACCELERATION` (read at call time, so tests can use
`override_settings`). A factor other than 1 is refused in production, both by
config/settings.py at start-up and here at every use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext, ngettext

DAYS = "days"
WORKING_DAYS = "working_days"
PERCENT = "percent"
CNY = "CNY"
COUNT = "count"
YEARS = "years"


def acceleration() -> float:
    """The sandbox acceleration factor; 1 in production, always."""
    factor = float(getattr(settings, "SANDBOX_TIME_ACCELERATION", 1) or 1)
    if factor != 1 and getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("SANDBOX_TIME_ACCELERATION cannot be set in production")
    if factor < 1:
        raise ImproperlyConfigured("SANDBOX_TIME_ACCELERATION must be 1 or more (it shortens periods)")
    return factor


def room_acceleration() -> float:
    """The sandbox factor of the live rooms' minute-scale windows (opening phases, expert calls); 1 in production.

    Separate from `acceleration()` (legal days): at 28,800 (20 legal days in a minute) a 10-minute
    sign-in would last 0.02 s, so the rooms keep their own, usually much smaller, factor."""
    factor = float(getattr(settings, "SANDBOX_ROOM_ACCELERATION", 1) or 1)
    if factor != 1 and getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("SANDBOX_ROOM_ACCELERATION cannot be set in production")
    if factor < 1:
        raise ImproperlyConfigured("SANDBOX_ROOM_ACCELERATION must be 1 or more (it shortens windows)")
    return factor


def legal_period(days: int | float) -> timedelta:
    """A period of calendar days, shortened by the sandbox acceleration factor."""
    return timedelta(days=days) / acceleration()


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def add_working_days(start: datetime, days: int) -> datetime:
    """The instant `days` working days (Mon–Fri, no holiday calendar) after `start`, unaccelerated."""
    moment, counted = _local(start), 0
    step = 1 if days >= 0 else -1
    while counted < abs(days):
        moment += timedelta(days=step)
        if moment.weekday() < 5:
            counted += 1
    return moment


@dataclass(frozen=True)
class LegalNumber:
    value: int | Decimal
    unit: str
    source: str
    comment: str = ""

    def span_from(self, start: datetime) -> timedelta:
        """Length of this period when it starts at `start`, accelerated."""
        if self.unit == DAYS:
            return legal_period(self.value)
        if self.unit == WORKING_DAYS:
            return (add_working_days(start, int(self.value)) - _local(start)) / acceleration()
        raise ValueError(f"{self.unit} is not a period")

    def span_before(self, end: datetime, factor: float | None = None) -> timedelta:
        """Length of this period when it ends at `end`, accelerated (by `factor`, else this process's factor)."""
        factor = acceleration() if factor is None else factor
        if self.unit == DAYS:
            return timedelta(days=self.value) / factor
        if self.unit == WORKING_DAYS:
            return (_local(end) - add_working_days(end, -int(self.value))) / factor
        raise ValueError(f"{self.unit} is not a period")

    def after(self, start: datetime) -> datetime:
        """The end of this period when it starts at `start`."""
        return start + self.span_from(start)

    def before(self, end: datetime, factor: float | None = None) -> datetime:
        """The start of this period when it must end at `end` (`factor`: a tender's pinned acceleration)."""
        return end - self.span_before(end, factor)

    def describe(self) -> str:
        """Language-neutral ("20 days"): for logs, audit data and `manage.py rules`."""
        unit = {DAYS: "days", WORKING_DAYS: "working days", PERCENT: "%", CNY: "CNY", COUNT: "", YEARS: "years"}[
            self.unit]
        return f"{self.value} {unit}".strip() if self.unit != PERCENT else f"{self.value} %"

    def display(self) -> str:
        """In the active language, for messages shown to people ("20 days" / "20 日")."""
        return quantity(self.value, self.unit)


def quantity(value, unit: str) -> str:
    """A legal quantity in the active language: ngettext for periods, the currency as the language writes it."""
    n = int(value) if Decimal(value) == Decimal(value).to_integral_value() else 2  # plural form for 1.5 days
    if unit == DAYS:
        return ngettext("%(n)s day", "%(n)s days", n) % {"n": value}
    if unit == WORKING_DAYS:
        return ngettext("%(n)s working day", "%(n)s working days", n) % {"n": value}
    if unit == YEARS:
        return ngettext("%(n)s year", "%(n)s years", n) % {"n": value}
    if unit == PERCENT:
        return f"{value} %"
    if unit == CNY:
        return gettext("%(n)s yuan") % {"n": value}
    return str(value)


@dataclass(frozen=True)
class ProcedureRules:
    procedure: str
    # Tender documents first issued → bid deadline, minimum.
    documents_to_deadline: LegalNumber
    # Tender documents available for download (发售期), minimum.
    documents_available: LegalNumber
    # An amendment or clarification that may affect bid preparation must leave this much time.
    amendment_before_deadline: LegalNumber
    # Objections to the tender documents: no later than this before the deadline.
    objection_before_deadline: LegalNumber
    # Reply to an objection within.
    objection_reply: LegalNumber
    # Deposit: at most this percentage of the lot's estimated price (budget).
    deposit_max_percent: LegalNumber
    # Deposit: absolute cap, if any.
    deposit_cap: LegalNumber | None
    # Fewer bids than this at the deadline: the tender fails (used by the opening).
    min_bids: LegalNumber
    # Candidate publicity lasts at least.
    publicity: LegalNumber

    def deposit_percent_limit(self, estimated_price: Decimal) -> Decimal:
        limit = Decimal(estimated_price) * Decimal(self.deposit_max_percent.value) / Decimal(100)
        return limit.quantize(Decimal("0.01"), rounding=ROUND_DOWN)

    def max_deposit(self, estimated_price: Decimal) -> Decimal:
        """The highest deposit allowed for a lot of this estimated price (percentage and cap)."""
        limit = self.deposit_percent_limit(estimated_price)
        if self.deposit_cap is not None:
            limit = min(limit, Decimal(self.deposit_cap.value))
        return limit


# --- The numbers -----------------------------------------------------------------

# 招标投标法 Art 24: 依法必须进行招标的项目，自招标文件开始发出之日起
# 至投标人提交投标文件截止之日止，最短不得少于二十日。
_MUST_TENDER_20_DAYS = LegalNumber(
    20, DAYS, "招标投标法 Art 24", "from the day documents are first issued to the bid deadline"
)
# 招标投标法实施条例 Art 16: 招标文件或者资格预审文件的发售期不得少于5日。
_DOCS_5_DAYS = LegalNumber(5, DAYS, "招标投标法实施条例 Art 16", "documents on sale / downloadable")
# 招标投标法 Art 23 and 实施条例 Art 21: clarifications/amendments that may affect bid preparation
# at least 15 days before the deadline, otherwise the deadline is postponed.
_AMEND_15_DAYS = LegalNumber(
    15, DAYS, "招标投标法 Art 23; 招标投标法实施条例 Art 21", "amendments affecting bid preparation"
)
# 实施条例 Art 22: objections to the tender documents up to 10 days before the deadline,
# reply within 3 days of receipt, activity suspended meanwhile.
_OBJECT_10_DAYS = LegalNumber(10, DAYS, "招标投标法实施条例 Art 22", "objections to the tender documents")
_REPLY_3_DAYS = LegalNumber(3, DAYS, "招标投标法实施条例 Art 22", "reply to an objection")
# 实施条例 Art 26: 投标保证金不得超过招标项目估算价的2%。
_DEPOSIT_2_PERCENT = LegalNumber(
    Decimal(2), PERCENT, "招标投标法实施条例 Art 26", "deposit relative to the estimated price"
)
# 工程建设项目施工招标投标办法 Art 37: 投标保证金……最高不得超过八十万元人民币。
_WORKS_DEPOSIT_CAP = LegalNumber(Decimal(800000), CNY, "工程建设项目施工招标投标办法 Art 37", "absolute cap for works")
# 招标投标法 Art 28 / 实施条例 Art 44: fewer than 3 bids → do not open, re-tender.
_MIN_BIDS_3 = LegalNumber(3, COUNT, "招标投标法 Art 28; 招标投标法实施条例 Art 44", "bids needed to open")
# 实施条例 Art 54: candidates published for at least 3 days.
_PUBLICITY_3_DAYS = LegalNumber(3, DAYS, "招标投标法实施条例 Art 54", "candidate publicity")

WORKS = ProcedureRules(
    procedure="works",
    documents_to_deadline=_MUST_TENDER_20_DAYS,
    documents_available=_DOCS_5_DAYS,
    amendment_before_deadline=_AMEND_15_DAYS,
    objection_before_deadline=_OBJECT_10_DAYS,
    objection_reply=_REPLY_3_DAYS,
    deposit_max_percent=_DEPOSIT_2_PERCENT,
    deposit_cap=_WORKS_DEPOSIT_CAP,
    min_bids=_MIN_BIDS_3,
    publicity=_PUBLICITY_3_DAYS,
)

# Goods and services under the Bidding Law: same numbers, no absolute deposit cap.
GOODS = ProcedureRules(
    procedure="goods",
    documents_to_deadline=_MUST_TENDER_20_DAYS,
    documents_available=_DOCS_5_DAYS,
    amendment_before_deadline=_AMEND_15_DAYS,
    objection_before_deadline=_OBJECT_10_DAYS,
    objection_reply=_REPLY_3_DAYS,
    deposit_max_percent=_DEPOSIT_2_PERCENT,
    deposit_cap=None,
    min_bids=_MIN_BIDS_3,
    publicity=_PUBLICITY_3_DAYS,
)

SERVICES = ProcedureRules(
    procedure="services",
    documents_to_deadline=_MUST_TENDER_20_DAYS,
    documents_available=_DOCS_5_DAYS,
    amendment_before_deadline=_AMEND_15_DAYS,
    objection_before_deadline=_OBJECT_10_DAYS,
    objection_reply=_REPLY_3_DAYS,
    deposit_max_percent=_DEPOSIT_2_PERCENT,
    deposit_cap=None,
    min_bids=_MIN_BIDS_3,
    publicity=_PUBLICITY_3_DAYS,
)

GOVERNMENT_PROCUREMENT = ProcedureRules(
    procedure="government_procurement",
    # 政府采购法 Art 35: 自招标文件开始发出之日起至投标人提交投标文件截止之日止，不得少于二十日。
    documents_to_deadline=LegalNumber(
        20, DAYS, "政府采购法 Art 35", "from the day documents are first issued to the bid deadline"
    ),
    # 政府采购法实施条例 Art 31: 招标文件的提供期限自开始之日起不得少于5个工作日。
    documents_available=LegalNumber(
        5, WORKING_DAYS, "政府采购法实施条例 Art 31", "documents available; Mon–Fri, no holiday calendar"
    ),
    # 政府采购法实施条例 Art 31: 澄清或者修改……可能影响投标文件编制的……在投标截止时间至少15日前……不足15日的，顺延。
    amendment_before_deadline=LegalNumber(
        15, DAYS, "政府采购法实施条例 Art 31", "amendments affecting bid preparation"
    ),
    # Government procurement challenges (质疑) run 7 working days from when the supplier knew
    # (政府采购法 Art 52); the platform applies the Bidding Law's 10-day cut-off to documents
    # as well so that replies land before the deadline (platform choice, docs/tendering.md).
    objection_before_deadline=LegalNumber(
        10, DAYS, "招标投标法实施条例 Art 22 (platform rule for 政府采购)", "objections to the tender documents"
    ),
    # 政府采购法 Art 53: 采购人应当在收到供应商的书面质疑后七个工作日内作出答复。
    objection_reply=LegalNumber(7, WORKING_DAYS, "政府采购法 Art 53", "reply to a challenge (质疑)"),
    # 政府采购法实施条例 Art 33: 投标保证金不得超过采购项目预算金额的2%。
    deposit_max_percent=LegalNumber(Decimal(2), PERCENT, "政府采购法实施条例 Art 33", "deposit relative to the budget"),
    deposit_cap=None,
    # 政府采购法 Art 36: 符合专业条件的供应商或者对招标文件作实质响应的供应商不足三家的，应予废标。
    min_bids=LegalNumber(3, COUNT, "政府采购法 Art 36", "bids needed to proceed"),
    # Government procurement publishes the result directly; the platform keeps the same
    # 3-day publicity window when a candidate publicity is issued (实施条例 Art 54).
    publicity=_PUBLICITY_3_DAYS,
)

RULES: dict[str, ProcedureRules] = {r.procedure: r for r in (WORKS, GOODS, SERVICES, GOVERNMENT_PROCUREMENT)}


def rules_for(procedure_type: str) -> ProcedureRules:
    try:
        return RULES[procedure_type]
    except KeyError:
        raise ValueError(f"unknown procedure type {procedure_type!r}") from None


# Rules without a number, cited by refusals (kept here so all legal sources live together).
AGENT_MAY_NOT_BID = "招标投标法实施条例 Art 13"
TENDERER_MAY_NOT_BID = "招标投标法实施条例 Art 34"
DEPOSIT_FROM_BASIC_ACCOUNT = "招标投标法实施条例 Art 26"
DEADLINE_IS_FINAL = "招标投标法 Art 28; 电子招标投标办法 Art 26"
SEAL_UNTIL_DEADLINE = "电子招标投标办法 Art 21"
FREE_DOWNLOAD = "电子招标投标办法 Art 20"
OBJECTION_SUSPENDS = "招标投标法实施条例 Art 22"
AWARD_AFTER_PUBLICITY = "招标投标法实施条例 Art 54"
TERMINATION_NOTICE = "招标投标法实施条例 Art 31"
# 招标投标法 Art 23: 招标人对已发出的招标文件进行必要的澄清或者修改的，应当在招标文件要求提交投标文件截止时间至少
# 十五日前，以书面形式通知所有招标文件收受人。 A changed document after publication is such a modification.
DOCUMENT_CHANGE_IS_AMENDMENT = "招标投标法 Art 23; 招标投标法实施条例 Art 21"


# --- Deposit refunds and forfeits (trading/deposits/) ----------------------------------------------


@dataclass(frozen=True)
class DepositRefundRules:
    """When a deposit must be back with the bidder (and its interest, 实施条例 Art 57), per procedure."""

    procedure: str
    # Bid withdrawn before the deadline → refund within.
    after_withdrawal: LegalNumber
    # Losers refunded after the award notice (government procurement); None: after the contract.
    losers_after_award: LegalNumber | None
    # Written contract signed → refund (winner, and losers not yet refunded) within.
    after_contract: LegalNumber
    # Tender terminated or failed → refund within.
    after_termination: LegalNumber
    # Money that is no valid deposit (wrong payer, late, after withdrawal) → back to the payer within.
    return_invalid: LegalNumber


# 招标投标法实施条例 Art 35: 投标人撤回已提交的投标文件……招标人已收取投标保证金的，
# 应当自收到投标人书面撤回通知之日起5日内退还。
_DEPOSIT_REFUND_WITHDRAWAL = LegalNumber(5, DAYS, "招标投标法实施条例 Art 35", "refund after a withdrawal")
# 招标投标法实施条例 Art 57: 招标人最迟应当在书面合同签订后5日内
# 向中标人和未中标的投标人退还投标保证金及银行同期存款利息。
_DEPOSIT_REFUND_CONTRACT = LegalNumber(5, DAYS, "招标投标法实施条例 Art 57", "refund after the written contract")
# 招标投标法实施条例 Art 31: 终止招标的……应当及时退还所收取的投标保证金及银行同期存款利息。
# "及时" has no number: the platform uses 5 days (docs/deposits.md).
_DEPOSIT_REFUND_TERMINATION = LegalNumber(
    5, DAYS, "招标投标法实施条例 Art 31", "refund after termination; 及时, platform: 5 days"
)
# No statute speaks of payments that are no valid deposit; the platform returns them within
# 5 days, as for a withdrawal (招标投标法实施条例 Art 35 by analogy).
_DEPOSIT_RETURN_INVALID = LegalNumber(
    5, DAYS, "platform rule (招标投标法实施条例 Art 35 by analogy)", "return of a payment that is no valid deposit"
)

DEPOSIT_REFUNDS_BIDDING_LAW = DepositRefundRules(
    procedure="bidding_law",
    after_withdrawal=_DEPOSIT_REFUND_WITHDRAWAL,
    losers_after_award=None,
    after_contract=_DEPOSIT_REFUND_CONTRACT,
    after_termination=_DEPOSIT_REFUND_TERMINATION,
    return_invalid=_DEPOSIT_RETURN_INVALID,
)

DEPOSIT_REFUNDS_GOVERNMENT_PROCUREMENT = DepositRefundRules(
    procedure="government_procurement",
    # 政府采购货物和服务招标投标管理办法 (财政部令第87号) Art 38*: 撤回……5个工作日内退还.
    after_withdrawal=LegalNumber(
        5, WORKING_DAYS, "政府采购货物和服务招标投标管理办法 Art 38*", "refund after a withdrawal"
    ),
    # 政府采购法实施条例 Art 33: 自中标通知书发出之日起5个工作日内退还未中标供应商的投标保证金，
    # 自政府采购合同签订之日起5个工作日内退还中标供应商的投标保证金。
    losers_after_award=LegalNumber(5, WORKING_DAYS, "政府采购法实施条例 Art 33", "losers, after the award notice"),
    after_contract=LegalNumber(5, WORKING_DAYS, "政府采购法实施条例 Art 33", "winner, after the contract"),
    # 政府采购货物和服务招标投标管理办法 Art 29*: 终止……5个工作日内退还投标保证金及其在银行产生的孳息.
    after_termination=LegalNumber(
        5, WORKING_DAYS, "政府采购货物和服务招标投标管理办法 Art 29*", "refund after termination"
    ),
    return_invalid=_DEPOSIT_RETURN_INVALID,
)


def deposit_refund_rules(procedure_type: str) -> DepositRefundRules:
    if procedure_type == "government_procurement":
        return DEPOSIT_REFUNDS_GOVERNMENT_PROCUREMENT
    rules_for(procedure_type)  # refuses unknown types
    return DEPOSIT_REFUNDS_BIDDING_LAW


# Refund with bank interest at the same-period deposit rate.
DEPOSIT_INTEREST = "招标投标法实施条例 Art 57"
# Cash deposits arrive before the bid deadline, from the basic account (实施条例 Art 26).
DEPOSIT_BEFORE_DEADLINE = "招标投标法实施条例 Art 26"
# 投标截止后投标人撤销投标文件的，招标人可以不退还投标保证金 (decryption failure by the bidder's fault = revoked).
DEPOSIT_FORFEIT_REVOKED = "招标投标法实施条例 Art 35"
# 中标人无正当理由不与招标人订立合同……取消其中标资格，投标保证金不予退还。
DEPOSIT_FORFEIT_REFUSED_CONTRACT = "招标投标法实施条例 Art 74"
# A deposit's validity equals the bid validity period (guarantee letters must cover it).
DEPOSIT_VALIDITY = "招标投标法实施条例 Art 26"


# --- The registry of every legal number and source (`manage.py rules`) ---------------------------------
# The numbers stay where their code uses them; each module is registered here and `rules_registry()`
# lists what it holds: LegalNumber and DrawRule-like constants (value + source), the per-procedure
# tables (ProcedureRules, EvaluationRules, DepositRefundRules), and the source-only rules (a constant
# string citing an article). trading registers its own modules; other apps register theirs from their
# AppConfig.ready (experts: experts.rules), so this module imports none of them.


@dataclass(frozen=True)
class RuleEntry:
    key: str  # "works.documents_to_deadline", "trading.evaluation.rules.MAX_CANDIDATES", …
    value: str  # "20 days", "2 %", "" for a rule without a number
    source: str
    comment: str
    module: str


RULE_MODULES: list[str] = ["trading.rules", "trading.opening.rules", "trading.evaluation.rules", "trading.retention"]


def rules_module_register(module: str) -> None:
    """Add a module of legal numbers to the registry (idempotent)."""
    if module not in RULE_MODULES:
        RULE_MODULES.append(module)


def _describe(rule) -> str:
    if isinstance(rule, LegalNumber):
        return rule.describe()
    return str(rule.value)


def _is_numbered(value) -> bool:
    """A LegalNumber, or a rule object of the same shape (experts.rules.DrawRule: value, source, comment)."""
    return isinstance(value, LegalNumber) or (
        hasattr(type(value), "__dataclass_fields__") and {"value", "source"} <= set(type(value).__dataclass_fields__)
    )


def _is_table(value) -> bool:
    """A per-procedure table: a dataclass with a `procedure` field and rule fields."""
    return hasattr(type(value), "__dataclass_fields__") and "procedure" in type(value).__dataclass_fields__


def rules_registry() -> list[RuleEntry]:
    """Every legal number and source of the registered modules, in module order, without duplicates."""
    import importlib

    entries: list[RuleEntry] = []
    seen_tables: set[tuple[str, str, str | None]] = set()
    for module_name in RULE_MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if name.startswith("_") or not name.isupper():
                continue
            if _is_numbered(value):
                entries.append(RuleEntry(f"{module_name}.{name}", _describe(value), value.source,
                                         value.comment, module_name))
            elif isinstance(value, tuple) and value and all(_is_numbered(v) for v in value):
                for index, item in enumerate(value):
                    entries.append(RuleEntry(f"{module_name}.{name}[{index}]", _describe(item), item.source,
                                             item.comment, module_name))
            elif isinstance(value, str) and " Art " in value:
                entries.append(RuleEntry(f"{module_name}.{name}", "", value, "", module_name))
            else:
                tables = value.values() if isinstance(value, dict) else [value]
                for table in tables:
                    key = (module_name, type(table).__name__, getattr(table, "procedure", None))
                    if not _is_table(table) or key in seen_tables:
                        continue
                    seen_tables.add(key)
                    for field_name in type(table).__dataclass_fields__:
                        rule = getattr(table, field_name)
                        if _is_numbered(rule):
                            entries.append(RuleEntry(f"{table.procedure}.{field_name}", _describe(rule), rule.source,
                                                     rule.comment, f"{module_name}.{type(table).__name__}"))
    return entries
