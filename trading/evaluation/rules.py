"""Legal numbers of evaluation, candidate publicity, objections, complaints, award and contract.

Same style as trading/rules.py (`LegalNumber` with value, unit, source and a comment;
`span_from`/`after` honour the sandbox acceleration through `legal_period`). Kept in
this module while the sub-app is young; the lead folds them into trading/rules.py
later, so nothing else in trading/evaluation/ writes a number of its own.

Numbers per procedure type: the Bidding Law numbers (works, goods, services) and the
government procurement ones where its statutes differ (objection = 质疑 and its reply,
complaint = 投诉). Government procurement publishes the result directly in law; the
platform keeps the same 3-day candidate publicity for it (trading/rules.py does the same).
"""

from __future__ import annotations

from dataclasses import dataclass

from trading.rules import COUNT, DAYS, WORKING_DAYS, LegalNumber

# 招标投标法实施条例 Art 53: 评标完成后，评标委员会应当向招标人提交书面评标报告和中标候选人名单。
# 中标候选人应当不超过3个，并标明排序。
MAX_CANDIDATES = LegalNumber(3, COUNT, "招标投标法实施条例 Art 53", "candidates ranked in the report, at most")

# 招标投标法实施条例 Art 54: 依法必须进行招标的项目，招标人应当自收到评标报告之日起3日内公示中标候选人，
# 公示期不得少于3日。
PUBLISH_WITHIN = LegalNumber(3, DAYS, "招标投标法实施条例 Art 54", "candidates published within, from the report")
PUBLICITY_MIN = LegalNumber(3, DAYS, "招标投标法实施条例 Art 54", "candidate publicity lasts at least")

# 招标投标法实施条例 Art 54: 投标人或者其他利害关系人对……评标结果有异议的，应当在中标候选人公示期间提出。
# 招标人应当自收到异议之日起3日内作出答复；作出答复前，应当暂停招标投标活动。
OBJECTION_DURING_PUBLICITY = "招标投标法实施条例 Art 54"
OBJECTION_REPLY = LegalNumber(3, DAYS, "招标投标法实施条例 Art 54", "reply to an objection to the evaluation result")
OBJECTION_SUSPENDS = "招标投标法实施条例 Art 54"
# 政府采购法 Art 53: 采购人应当在收到供应商的书面质疑后七个工作日内作出答复。
GP_OBJECTION_REPLY = LegalNumber(7, WORKING_DAYS, "政府采购法 Art 53", "reply to a challenge (质疑)")

# 招标投标法实施条例 Art 60: 投标人或者其他利害关系人……可以自知道或者应当知道之日起10日内向有关行政监督部门投诉。
# ……就本条例第二十二条、第四十四条、第五十四条规定事项投诉的，应当先向招标人提出异议，异议答复期间不计算在前款
# 规定的期限内。
COMPLAINT_WITHIN = LegalNumber(10, DAYS, "招标投标法实施条例 Art 60", "complaint to the supervising department")
OBJECTION_BEFORE_COMPLAINT = "招标投标法实施条例 Art 60"
# 政府采购法 Art 55: 质疑供应商对……答复不满意或者……未在规定的时间内作出答复的，可以在答复期满后十五个工作日内
# 向同级政府采购监督管理部门投诉。
GP_COMPLAINT_WITHIN = LegalNumber(15, WORKING_DAYS, "政府采购法 Art 55", "complaint after the challenge reply")

# 招标投标法实施条例 Art 61: 行政监督部门应当自收到投诉之日起3个工作日内决定是否受理投诉，并自受理投诉之日起
# 30个工作日内作出书面处理决定。
COMPLAINT_ACCEPT = LegalNumber(3, WORKING_DAYS, "招标投标法实施条例 Art 61", "decide whether to accept a complaint")
COMPLAINT_DECIDE = LegalNumber(30, WORKING_DAYS, "招标投标法实施条例 Art 61", "written decision on a complaint")
# 政府采购法 Art 56: 政府采购监督管理部门应当在收到投诉后三十个工作日内……作出处理决定。
# 政府采购质疑和投诉办法 (财政部令第94号) Art 21: 财政部门收到投诉书后，应当在5个工作日内进行审查……
GP_COMPLAINT_ACCEPT = LegalNumber(5, WORKING_DAYS, "政府采购质疑和投诉办法 Art 21", "review of a complaint")
GP_COMPLAINT_DECIDE = LegalNumber(30, WORKING_DAYS, "政府采购法 Art 56", "decision on a complaint")

# 招标投标法 Art 46: 招标人和中标人应当自中标通知书发出之日起三十日内……订立书面合同。
# 政府采购法 Art 46: 采购人与中标、成交供应商应当在中标、成交通知书发出之日起三十日内……签订政府采购合同。
CONTRACT_WITHIN = LegalNumber(30, DAYS, "招标投标法 Art 46", "written contract after the award notice")
GP_CONTRACT_WITHIN = LegalNumber(30, DAYS, "政府采购法 Art 46", "procurement contract after the award notice")

# 招标投标法实施条例 Art 57: 合同的标的、价款、质量、履行期限等主要条款应当与招标文件和中标人的投标文件的内容一致。
# 招标人最迟应当在书面合同签订后5日内向中标人和未中标的投标人退还投标保证金及银行同期存款利息。
CONTRACT_MATCHES_BID = "招标投标法实施条例 Art 57"
REFUND_AFTER_CONTRACT = "招标投标法实施条例 Art 57"
# 政府采购法实施条例 Art 33: 采购人或者采购代理机构应当自中标通知书发出之日起5个工作日内退还未中标供应商的投标保证金，
# 自政府采购合同签订之日起5个工作日内退还中标供应商的投标保证金。
GP_REFUND_AFTER_AWARD = "政府采购法实施条例 Art 33"
# 招标投标法实施条例 Art 55: 国有资金占控股或者主导地位的依法必须进行招标的项目，招标人应当确定排名第一的中标候选人为
# 中标人。
FIRST_CANDIDATE_WINS = "招标投标法实施条例 Art 55"

# 招标投标法 Art 45: 中标人确定后，招标人应当向中标人发出中标通知书，并同时将中标结果通知所有未中标的投标人。
AWARD_NOTICE = "招标投标法 Art 45"
# 招标投标法实施条例 Art 55: 排名第一的中标候选人放弃中标……招标人可以按照评标委员会提出的中标候选人名单排序
# 依次确定其他中标候选人为中标人，也可以重新招标。
NEXT_CANDIDATE = "招标投标法实施条例 Art 55"
# 招标投标法实施条例 Art 74: 中标人无正当理由不与招标人订立合同……取消其中标资格，投标保证金不予退还。
REFUSAL_FORFEITS_DEPOSIT = "招标投标法实施条例 Art 74"

# 招标投标法实施条例 Art 53: 评标报告应当由评标委员会全体成员签字。对评标结果有不同意见的评标委员会成员应当以书面
# 形式说明其不同意见和理由，评标报告应当注明该不同意见。评标委员会成员拒绝在评标报告上签字又不书面说明其不同意见
# 和理由的，视为同意评标结果。
REPORT_SIGNED_BY_ALL = "招标投标法实施条例 Art 53"
# 招标投标法 Art 37: 评标委员会成员的名单在中标结果确定前应当保密。 Art 44: 评标委员会成员……不得透露对投标文件
# 的评审和比较、中标候选人的推荐情况以及与评标有关的其他情况。
SCORES_CONFIDENTIAL = "招标投标法 Art 44"
# 招标投标法实施条例 Art 46 (replacement drawn like the original); 评标委员会和评标方法暂行规定 Art 12 (avoidance):
# a member who declares a conflict leaves, and the replacement evaluates afresh.
MEMBER_REPLACEMENT = "招标投标法实施条例 Art 46"
INTEREST_DECLARATION = "招标投标法 Art 37; 评标委员会和评标方法暂行规定 Art 12"
# 招标投标法 Art 40: 评标委员会应当按照招标文件确定的评标标准和方法，对投标文件进行评审和比较。
CRITERIA_FROM_DOCUMENTS = "招标投标法 Art 40"
# 招标投标法实施条例 Art 51: 有下列情形之一的，评标委员会应当否决其投标 (rejections with reasons).
REJECTION = "招标投标法实施条例 Art 51"
# 招标投标法 Art 41 / 评标委员会和评标方法暂行规定 Arts 29–31 (经评审的最低投标价法) and Arts 34–35 (综合评估法);
# 政府采购货物和服务招标投标管理办法 Art 55 (低价优先法: the lowest valid price is the 评标基准价 and scores full marks;
# 投标报价得分 = 评标基准价 / 投标报价 × 价格分值).
METHODS = "招标投标法 Art 41; 评标委员会和评标方法暂行规定 Arts 29–35"
PRICE_SCORE_FORMULA = "政府采购货物和服务招标投标管理办法 Art 55"


@dataclass(frozen=True)
class EvaluationRules:
    procedure: str
    max_candidates: LegalNumber
    publish_within: LegalNumber
    publicity_min: LegalNumber
    objection_reply: LegalNumber
    complaint_within: LegalNumber
    complaint_accept: LegalNumber
    complaint_decide: LegalNumber
    contract_within: LegalNumber


_BIDDING_LAW = {
    "max_candidates": MAX_CANDIDATES,
    "publish_within": PUBLISH_WITHIN,
    "publicity_min": PUBLICITY_MIN,
    "objection_reply": OBJECTION_REPLY,
    "complaint_within": COMPLAINT_WITHIN,
    "complaint_accept": COMPLAINT_ACCEPT,
    "complaint_decide": COMPLAINT_DECIDE,
    "contract_within": CONTRACT_WITHIN,
}

RULES: dict[str, EvaluationRules] = {
    "works": EvaluationRules(procedure="works", **_BIDDING_LAW),
    "goods": EvaluationRules(procedure="goods", **_BIDDING_LAW),
    "services": EvaluationRules(procedure="services", **_BIDDING_LAW),
    "government_procurement": EvaluationRules(
        procedure="government_procurement",
        **{
            **_BIDDING_LAW,
            "objection_reply": GP_OBJECTION_REPLY,
            "complaint_within": GP_COMPLAINT_WITHIN,
            "complaint_accept": GP_COMPLAINT_ACCEPT,
            "complaint_decide": GP_COMPLAINT_DECIDE,
            "contract_within": GP_CONTRACT_WITHIN,
        },
    ),
}


def evaluation_rules(procedure_type: str) -> EvaluationRules:
    try:
        return RULES[procedure_type]
    except KeyError:
        raise ValueError(f"unknown procedure type {procedure_type!r}") from None
