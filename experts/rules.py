"""Legal numbers and rules of expert drawing, each with its source.

Kept here (not in trading/rules.py) while the expert app is young; the numbers are
not repeated anywhere else in experts/. Every refusal quotes `source`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings


@dataclass(frozen=True)
class DrawRule:
    value: int | Decimal
    source: str
    comment: str = ""


# 招标投标法 Art 37: 评标委员会由招标人的代表和有关技术、经济等方面的专家组成，成员人数为五人以上单数，
# 其中技术、经济等方面的专家不得少于成员总数的三分之二。
COMMITTEE_MIN = DrawRule(5, "招标投标法 Art 37", "committee of five or more members")
COMMITTEE_ODD = DrawRule(1, "招标投标法 Art 37", "the number of members is odd (单数)")
# Share of technical and economic experts: at least 2/3 of all members (numerator, denominator).
TECH_ECON_SHARE = (DrawRule(2, "招标投标法 Art 37"), DrawRule(3, "招标投标法 Art 37"))

# 政府采购货物和服务招标投标管理办法 (财政部令第87号) Art 47: 评标委员会由采购人代表和评审专家组成，成员人数应当为
# 5人以上单数，其中评审专家不得少于成员总数的三分之二。采购预算金额在1000万元以上、技术复杂、社会影响较大的项目，
# 评标委员会成员人数应当为7人以上单数。 (DOMAIN.md: "7 or more when the budget is at least 10,000,000 CNY".)
GP_LARGE_BUDGET = DrawRule(Decimal("10000000"), "政府采购货物和服务招标投标管理办法 Art 47", "budget threshold, CNY")
GP_LARGE_COMMITTEE_MIN = DrawRule(7, "政府采购货物和服务招标投标管理办法 Art 47", "committee for large budgets")
GP_EXPERT_SHARE_SOURCE = "政府采购货物和服务招标投标管理办法 Art 47"

# 招标投标法实施条例 Art 46: 评标专家从评标专家库内相关专业的专家名单中以随机抽取方式确定……任何单位和个人
# 不得以明示、暗示等任何方式指定或者变相指定参加评标委员会的专家成员；更换评标委员会成员的，应当依照前款规定进行。
# 政府采购法实施条例 Art 39: 采购人或者采购代理机构应当从政府采购评审专家库中随机抽取评审专家。
RANDOM_DRAW = "招标投标法实施条例 Art 46; 政府采购法实施条例 Art 39"

# 招标投标法 Art 37: 与投标人有利害关系的人不得进入相关项目的评标委员会……评标委员会成员的名单在中标结果确定前应当保密。
INTEREST_AVOIDANCE = "招标投标法 Art 37; 评标委员会和评标方法暂行规定 Art 12"
NAMES_CONFIDENTIAL = "招标投标法 Art 37"

# 政府采购法实施条例 Art 9: 参加采购活动前3年内与供应商存在劳动关系，或者担任过供应商的董事、监事，或者是供应商的
# 控股股东或者实际控制人……应当回避。
FORMER_STAFF_YEARS = DrawRule(3, "政府采购法实施条例 Art 9", "employee, director or controlling shareholder in the "
                                                         "last three years")
# 评标委员会和评标方法暂行规定 Art 12: 投标人或者投标人主要负责人的近亲属 may not sit on the committee.
RELATIVE_AVOIDANCE = "评标委员会和评标方法暂行规定 Art 12; 政府采购法实施条例 Art 9"

# Committee members of the tender's own side: the tenderer sends its representative (not drawn); its staff and the
# agent's staff are never drawn as independent experts (利害关系, 招标投标法 Art 37).
OWN_SIDE_AVOIDANCE = "招标投标法 Art 37"

# Bounds the platform sets on a request (not legal numbers): a committee above 25 or more than 10 reserves per
# specialty line is refused as a likely typing error.
COMMITTEE_MAX = 25
RESERVES_MAX = 10
REGIONS_MAX = 20
LINES_MAX = 10


def confirmation_minutes() -> float:
    """Minutes an expert has to accept or decline (a platform setting, often 15 in practice)."""
    return float(getattr(settings, "EXPERTS_CONFIRMATION_MINUTES", 15))


def same_tenderer_cap() -> int:
    """Panels for the same tenderer one expert may sit on per calendar year (0 = no cap). A platform setting."""
    return int(getattr(settings, "EXPERTS_SAME_TENDERER_CAP_PER_YEAR", 3))


def min_committee(procedure_type: str, budget: Decimal) -> DrawRule:
    if procedure_type == "government_procurement" and Decimal(budget) >= GP_LARGE_BUDGET.value:
        return GP_LARGE_COMMITTEE_MIN
    return COMMITTEE_MIN
