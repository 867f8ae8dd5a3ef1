from accounts.policy import has_role, public, rule, same_org
from accounts.roles import Role


def _supervisor(user) -> bool:
    return has_role(user, Role.SUPERVISOR)


@rule("fixed_price.create")
def fixed_price_create(user, _obj=None) -> bool:
    return has_role(user, Role.AGENT) and user.organisation_id is not None


@rule("fixed_price.manage")
def fixed_price_manage(user, project) -> bool:
    """The project's agent runs the procedure (notice, review, drawing, contract)."""
    return has_role(user, Role.AGENT) and same_org(user, project.agent_id)


@rule("fixed_price.supervise")
def fixed_price_supervise(user, _project=None) -> bool:
    """Exclusions with their reasons, warnings, documents: supervisors."""
    return _supervisor(user)


@rule("fixed_price.view_entries")
def fixed_price_view_entries(user, project) -> bool:
    return _supervisor(user) or (has_role(user, Role.AGENT) and same_org(user, project.agent_id)) \
        or same_org(user, project.tenderer_id)


@rule("fixed_price.register")
def fixed_price_register(user, _project=None) -> bool:
    return has_role(user, Role.BIDDER) and user.organisation_id is not None


@rule("fixed_price.object")
def fixed_price_object(user, project) -> bool:
    return has_role(user, Role.BIDDER) and project.entries.filter(organisation_id=user.organisation_id).exists()


@rule("fixed_price.confirm")
def fixed_price_confirm(user, pick) -> bool:
    return has_role(user, Role.BIDDER) and same_org(user, pick.organisation_id)


@rule("fixed_price.view")
@public
def fixed_price_view(_user, _project=None) -> bool:
    """Published notices, qualification results, the drawing and its record are public (政务公开)."""
    return True
