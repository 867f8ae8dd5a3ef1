"""Who may do and see what in the evaluation, publicity, award and contract (accounts.policy registry).

Sealing of scores (招标投标法 Art 44: members may not disclose the evaluation; Art 37: names
confidential until the result is decided):

- a member's own marks and scores (drafts): the member and supervisors only;
- submitted sheets of the round: the member's own; other members once they submitted their own;
  the agent and tenderer once the candidate publicity started; supervisors always; never bidders
  or the public;
- the report (ranking with individual totals, sheets): its members and supervisors; the agent and
  tenderer a summary without individual scores once it is final, the whole once the publicity
  started;
- candidates and rejections: everyone once the candidate publicity started.
"""

from __future__ import annotations

from accounts.policy import has_role, public, rule, same_org
from accounts.roles import Role
from trading.evaluation.models import CandidatePublicity, CommitteeMember, MemberStatus
from trading.policies import is_agent_of, is_bidder, is_party, is_supervisor


def is_member(user, session, *, active: bool = False) -> bool:
    """Does `user` sit (or, with active=False, did they sit) on the session's committee?"""
    members = CommitteeMember.objects.filter(session=session, user_id=getattr(user, "pk", None))
    if active:
        members = members.filter(status=MemberStatus.ACTIVE)
    return bool(has_role(user, Role.EXPERT) and members.exists())


def publicity_started(tender) -> bool:
    """Has a candidate publicity been published for the tender (withdrawn or not)?"""
    return CandidatePublicity.objects.filter(tender=tender).exists()


@rule("evaluation.criteria")
def criteria_manage(user, tender) -> bool:
    return is_agent_of(user, tender)


@rule("evaluation.open")
def session_open(user, tender) -> bool:
    # The tenderer organises the evaluation (招标投标法 Art 37); its agent runs it on the platform.
    return is_agent_of(user, tender)


@rule("evaluation.view")
def session_view(user, session) -> bool:
    return is_supervisor(user) or is_party(user, session.tender) or is_member(user, session)


@rule("evaluation.sign_in")
def session_sign_in(user, _session=None) -> bool:
    return has_role(user, Role.EXPERT)


@rule("evaluation.replace_member")
def replace_member(user, session) -> bool:
    return is_supervisor(user) or is_agent_of(user, session.tender)


@rule("evaluation.rate_member")
def rate_member(user, session) -> bool:
    """专家动态考核: the tender's agent and supervisors rate the members after the evaluation."""
    return is_supervisor(user) or is_agent_of(user, session.tender)


@rule("evaluation.view_all_sheets")
def view_all_sheets(user, session) -> bool:
    """Every sheet, drafts included, live: supervisors only."""
    return is_supervisor(user)


@rule("evaluation.view_report")
def view_report(user, report) -> bool:
    """The whole report (sheets and member totals)."""
    if is_supervisor(user):
        return True
    if is_member(user, report.session, active=True):  # a member who left sees no later report
        return True
    return is_party(user, report.tender) and report.status == "final" and publicity_started(report.tender)


@rule("evaluation.view_report_summary")
def view_report_summary(user, report) -> bool:
    """Ranking, candidates and rejections without individual scores: the tender's side once final."""
    return view_report(user, report) or (is_party(user, report.tender) and report.status == "final")


@rule("publicity.view")
@public
def publicity_view(user, publicity) -> bool:
    return True  # 政务公开: the candidate publicity is public


@rule("publicity.object")
def publicity_object(user, _tender=None) -> bool:
    # 投标人或者其他利害关系人 (实施条例 Art 54): organisations with the bidder role.
    return is_bidder(user)


@rule("publicity.reply")
def publicity_reply(user, tender) -> bool:
    # The tenderer answers (实施条例 Art 54); its agent does so on its behalf.
    return is_party(user, tender)


@rule("publicity.view_objection")
def publicity_view_objection(user, objection) -> bool:
    return is_supervisor(user) or is_party(user, objection.tender) or same_org(user, objection.raised_by_org_id)


@rule("complaint.file")
def complaint_file(user, _tender=None) -> bool:
    return is_bidder(user)


@rule("complaint.view")
def complaint_view(user, complaint) -> bool:
    return is_supervisor(user) or is_party(user, complaint.tender) or same_org(user, complaint.raised_by_org_id)


@rule("complaint.handle")
def complaint_handle(user, _complaint=None) -> bool:
    # The supervising department (行政监督部门, 实施条例 Art 61).
    return is_supervisor(user)


@rule("award.manage")
def award_manage(user, tender) -> bool:
    return is_agent_of(user, tender)


@rule("award.view_letter")
def award_view_letter(user, award) -> bool:
    return is_supervisor(user) or is_party(user, award.tender) or same_org(user, award.bid.bidder_id)


@rule("contract.record")
def contract_record(user, tender) -> bool:
    return is_party(user, tender)


@rule("workspace.expert_evaluation")
def workspace_expert(user, _obj=None) -> bool:
    return has_role(user, Role.EXPERT)
