"""The numbers of the fixed-price comparison (固定价比选, docs/smallworks.md), each with its source.

Shifang runs government-invested works under 2,000,000 yuan by fixed-price comparison with a random
drawing of enterprises (Shifang 随机抽取企业须知; DOMAIN.md "The platform's other sectors"; * = the
threshold is the local rule as reported, check the official text). The other numbers are the
platform's published defaults, overridable in settings (`SMALLWORKS_*`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings


@dataclass(frozen=True)
class Rule:
    value: int | Decimal
    source: str


MAX_CONTRACT_PRICE = Rule(Decimal("2000000.00"), "Shifang 固定价比选: government-invested works under 2,000,000 yuan*")
# An enterprise holding this many unfinished drawn projects is not drawn again (Shifang 随机抽取企业须知).
UNFINISHED_CAP = Rule(2, "Shifang 随机抽取企业须知 (too many unfinished drawn projects); "
                           "setting SMALLWORKS_UNFINISHED_CAP")
# Objections to the qualification result: within this many days of its publication (as for tenders,
# 招标投标法实施条例 Art 54: 3 days for the evaluation result).
OBJECTION_DAYS = Rule(3, "招标投标法实施条例 Art 54 (applied to the qualification result)")
# Result publicity (结果公示): at least this many days before the contract.
PUBLICITY_DAYS = Rule(3, "招标投标法实施条例 Art 54 (applied to the drawing result)")
# Signing period announced in the notice: default and bounds (days).
SIGNING_DAYS_DEFAULT = Rule(7, "Shifang 随机抽取企业须知 (the drawn enterprise signs within the announced period)")
SIGNING_DAYS_MAX = Rule(30, "招标投标法 Art 46 (contract within 30 days)")
# A warning to supervisors when this share of the signing period has passed without signature.
LATE_WARNING_SHARE = Rule(Decimal("0.5"), "platform supervision policy (docs/smallworks.md)")
DEPOSIT_MAX_SHARE = Rule(Decimal("0.02"), "招标投标法实施条例 Art 26 (2 % of the estimated price)")


def unfinished_cap() -> int:
    return int(getattr(settings, "SMALLWORKS_UNFINISHED_CAP", UNFINISHED_CAP.value))


def max_contract_price() -> Decimal:
    return Decimal(str(getattr(settings, "SMALLWORKS_MAX_CONTRACT_PRICE", MAX_CONTRACT_PRICE.value)))
