"""The numbers of credit records and market access (docs/credit.md), each with its source.

The statutes fix the principle (招标投标法实施条例 Art 67–68, 74, 79: 不良行为记录 and bans on
bidding for a period; 政府采购法 Art 77: 列入不良行为记录名单, 一至三年内禁止参加政府采购活动),
the periods below are this platform's published policy (Yichang practice, * = configurable) and
can be overridden in settings `CREDIT_RULES` ({kind: {"severity", "publish_days"}}, {"bar_days":
{severity: days}}, ...). Nothing else in credit/ repeats these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordKind(models.TextChoices):
    DEPOSIT_FORFEITED = "deposit_forfeited", _("Deposit forfeited")
    REFUSED_TO_SIGN = "refused_to_sign", _("Refused or failed to sign the contract")
    COLLUSION = "collusion", _("Collusion (confirmed by a supervisor)")
    FALSE_DOCUMENTS = "false_documents", _("False documents found in evaluation")
    EXPERT_NO_SHOW = "expert_no_show", _("Expert did not appear")
    EXPERT_MISCONDUCT = "expert_misconduct", _("Expert misconduct")


class Severity(models.TextChoices):
    GENERAL = "general", _("General")
    SERIOUS = "serious", _("Serious")
    GRAVE = "grave", _("Grave")


SEVERITY_ORDER = {Severity.GENERAL: 0, Severity.SERIOUS: 1, Severity.GRAVE: 2}


@dataclass(frozen=True)
class KindRule:
    severity: str
    publish_days: int
    source: str


# Default severity and publication period (公示期) per kind.
KINDS: dict[str, KindRule] = {
    RecordKind.DEPOSIT_FORFEITED: KindRule(Severity.GENERAL, 180, "招标投标法实施条例 Art 35, 74"),
    RecordKind.REFUSED_TO_SIGN: KindRule(Severity.SERIOUS, 365, "招标投标法实施条例 Art 74"),
    RecordKind.COLLUSION: KindRule(Severity.GRAVE, 1095, "招标投标法 Art 53; 实施条例 Art 67"),
    RecordKind.FALSE_DOCUMENTS: KindRule(Severity.SERIOUS, 365, "招标投标法 Art 54; 实施条例 Art 68"),
    RecordKind.EXPERT_NO_SHOW: KindRule(Severity.GENERAL, 180, "评标专家和评标专家库管理暂行办法 Art 15"),
    RecordKind.EXPERT_MISCONDUCT: KindRule(Severity.SERIOUS, 365, "招标投标法实施条例 Art 71"),
}
# Market bar (市场清出) from publication, per severity: general records bar nobody by themselves.
BAR_DAYS: dict[str, int] = {Severity.GENERAL: 0, Severity.SERIOUS: 180, Severity.GRAVE: 365}
# Repeated conduct: a general record published while another counting record of the same subject was
# published in the previous REPEAT_WINDOW_DAYS bars for REPEAT_BAR_DAYS.
REPEAT_WINDOW_DAYS = 365
REPEAT_BAR_DAYS = 90
# Appeal (申诉): within this many days of publication.
APPEAL_DAYS = 30
# Repair (信用修复): may be asked once this many days of the publication period have passed.
REPAIR_AFTER_DAYS: dict[str, int] = {Severity.GENERAL: 30, Severity.SERIOUS: 90, Severity.GRAVE: 180}
# Expert ratings (专家动态考核): a score 1..5; <= POOR_SCORE is poor. One poor rating by a supervisor,
# or POOR_REPEAT poor ratings within POOR_WINDOW_DAYS, suspends the expert for SUSPEND_DAYS.
POOR_SCORE = 2
POOR_REPEAT = 2
POOR_WINDOW_DAYS = 365
SUSPEND_DAYS = 180
# Optional credit item of comprehensive scoring: full marks minus a deduction per counting record.
SCORE_DEDUCTION: dict[str, int] = {Severity.GENERAL: 1, Severity.SERIOUS: 3, Severity.GRAVE: 5}
POLICY_SOURCE = "platform credit policy (docs/credit.md; Yichang 招投标信用档案 practice)*"


def _overrides() -> dict:
    return dict(getattr(settings, "CREDIT_RULES", None) or {})


def kind_rule(kind: str) -> KindRule:
    rule = KINDS[RecordKind(kind)]
    override = _overrides().get(str(kind)) or {}
    return KindRule(override.get("severity", rule.severity), int(override.get("publish_days", rule.publish_days)),
                    rule.source)


def bar_days(severity: str) -> int:
    return int((_overrides().get("bar_days") or {}).get(str(severity), BAR_DAYS[Severity(severity)]))


def days(n: int) -> timedelta:
    return timedelta(days=n)
