from accounts.policy import has_role, public, rule, same_org
from accounts.roles import Role


@rule("credit.decide")
def credit_decide(user, _record=None) -> bool:
    return has_role(user, Role.SUPERVISOR)


@rule("credit.view_all")
def credit_view_all(user, _obj=None) -> bool:
    """Proposed, rejected and ended records, and the decision trail with reasons."""
    return has_role(user, Role.SUPERVISOR) or has_role(user, Role.PLATFORM_ADMIN)


@rule("credit.request")
def credit_request(user, record) -> bool:
    """Only the organisation a record is about appeals it or asks for its repair."""
    return record is not None and same_org(user, record.organisation_id)


@rule("credit.query")
@public
def credit_query(_user, _obj=None) -> bool:
    """Anyone may query published records (政务公开)."""
    return True
