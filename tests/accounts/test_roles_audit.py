import pytest

from accounts.policy import authorize, can
from accounts.roles import Role
from accounts.services import role_grant, role_revoke
from audit.models import AuditEvent
from config.errors import NotPermitted

pytestmark = pytest.mark.django_db


def test_role_changes_are_audited_with_actor(make_user):
    admin = make_user(Role.PLATFORM_ADMIN)
    target = make_user()
    role_grant(actor=admin, user=target, role=Role.SUPERVISOR)
    assert target.has_role(Role.SUPERVISOR)
    role_revoke(actor=admin, user=target, role=Role.SUPERVISOR)
    assert not target.has_role(Role.SUPERVISOR)
    events = AuditEvent.objects.filter(object=f"accounts.user:{target.pk}", action__startswith="user.role_")
    assert [(e.action, e.data["role"]) for e in events] == [
        ("user.role_granted", "supervisor"), ("user.role_revoked", "supervisor")]


def test_only_platform_admin_manages_roles(make_user):
    agent, target = make_user(Role.AGENT), make_user()
    with pytest.raises(NotPermitted):
        role_grant(actor=agent, user=target, role=Role.SUPERVISOR)
    assert not target.has_role(Role.SUPERVISOR)


def test_unknown_policy_action_is_refused_loudly(make_user):
    with pytest.raises(KeyError):
        can(make_user(), "no.such.action")


def test_anonymous_is_refused_by_non_public_rules(make_user):
    from django.contrib.auth.models import AnonymousUser

    org_user = make_user(Role.BIDDER)
    assert can(org_user, "organisation.view", org_user.organisation)
    assert not can(AnonymousUser(), "organisation.view", org_user.organisation)
    with pytest.raises(NotPermitted):
        authorize(make_user(Role.BIDDER), "organisation.view", org_user.organisation)


def test_admin_edit_is_audited(client, make_user):
    admin = make_user(Role.PLATFORM_ADMIN, is_staff=True, is_superuser=True)
    org = make_user(Role.BIDDER).organisation
    client.force_login(admin)
    url = f"/admin/accounts/organisation/{org.pk}/change/"
    form = {"name": "Renamed Co", "uscc": org.uscc, "basic_account_bank": org.basic_account_bank,
            "basic_account_number": org.basic_account_number, "basic_account_name": org.basic_account_name,
            "contact_name": "", "contact_phone": "", "contact_email": "", "address": ""}
    assert client.post(url, form).status_code == 302
    event = AuditEvent.objects.get(action="admin.changed")
    assert event.actor == str(admin.pk) and event.object == f"accounts.organisation:{org.pk}"
    assert "Name" in event.data["change"] and "Renamed" not in event.data["change"]
