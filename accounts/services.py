from __future__ import annotations

from django.db import transaction

from accounts.models import Organisation, User, UserRole
from accounts.policy import authorize
from accounts.roles import Role
from audit.services import audit_record


@transaction.atomic
def organisation_create(*, actor, name: str, uscc: str, **fields) -> Organisation:
    org = Organisation(name=name, uscc=uscc, **fields)
    org.full_clean()
    org.save()
    audit_record(actor=actor, action="organisation.created", obj=org,
                 data={"name": org.name, "uscc": org.uscc})
    return org


@transaction.atomic
def user_create(*, actor, username: str, password: str, organisation: Organisation | None = None,
                roles: list[str] | tuple[str, ...] = (), **fields) -> User:
    user = User(username=username, organisation=organisation, **fields)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(actor=actor, action="user.created", obj=user,
                 data={"username": username, "organisation": organisation.pk if organisation else None})
    for role in roles:
        role_grant(actor=actor, user=user, role=role, check=False)
    return user


@transaction.atomic
def role_grant(*, actor, user: User, role: str, check: bool = True) -> UserRole:
    """Grant a role; the audit event is written by the UserRole signal (covers admin edits too)."""
    if check:
        authorize(actor, "user.manage_roles", user)
    Role(role)  # ValueError for an unknown role
    grant, _ = UserRole.objects.get_or_create(user=user, role=role)
    user.__dict__.pop("_role_cache", None)
    return grant


@transaction.atomic
def role_revoke(*, actor, user: User, role: str) -> None:
    authorize(actor, "user.manage_roles", user)
    for grant in UserRole.objects.filter(user=user, role=role):
        grant.delete()
    user.__dict__.pop("_role_cache", None)
