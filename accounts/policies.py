from accounts.policy import has_role, rule
from accounts.roles import Role


@rule("organisation.view")
def organisation_view(user, org) -> bool:
    return user.organisation_id == org.pk or has_role(user, Role.SUPERVISOR) or has_role(user, Role.PLATFORM_ADMIN)


@rule("organisation.edit")
def organisation_edit(user, org) -> bool:
    return has_role(user, Role.PLATFORM_ADMIN)


@rule("user.manage_roles")
def user_manage_roles(user, target) -> bool:
    return has_role(user, Role.PLATFORM_ADMIN)
