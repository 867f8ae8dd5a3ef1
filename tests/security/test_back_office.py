"""Issue 15 finding 2: the back office (Django admin) shows no audit event data, no sealed facts
and no API tokens; tokens are stored hashed and shown once; back-office logins and changes are
audit events."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import Client

from accounts.models import ApiToken
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

# Apps whose models the back office may show: accounts (organisations, users, roles), groups,
# the login lock-out records and the periodic task schedule. Nothing of audit, trading, experts.
ALLOWED_APPS = {"accounts", "auth", "axes", "django_celery_beat"}


@pytest.fixture
def superuser_client(make_user):
    user = make_user("platform_admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_no_sealed_or_audit_model_is_registered_in_the_back_office():
    registered = {model._meta.app_label for model in admin.site._registry}
    assert registered <= ALLOWED_APPS, registered - ALLOWED_APPS
    assert not any(model._meta.label == "accounts.ApiToken" for model in admin.site._registry)


def test_superuser_cannot_read_audit_events_or_tokens(superuser_client, make_user):
    AuditEvent.objects.exists()  # events exist (user creation)
    for url in ("/admin/audit/auditevent/", "/admin/authtoken/tokenproxy/", "/admin/authtoken/token/",
                "/admin/accounts/apitoken/", "/admin/trading/bid/", "/admin/experts/panel/"):
        assert superuser_client.get(url).status_code == 404, url
    index = superuser_client.get("/admin/").content.decode()
    assert "/admin/audit/" not in index and "/admin/authtoken/" not in index and "apitoken" not in index


def test_api_tokens_are_stored_hashed_and_shown_once(api, make_user):
    make_user("bidder", username="hashed")
    keys = []
    for _ in range(2):
        response = api.post("/api/v1/auth/token", {"username": "hashed", "password": "correct-horse-9"}, format="json")
        assert response.status_code == 200
        keys.append(response.json()["token"])
    assert keys[0] != keys[1]  # never read back: each request shows a new token once
    for key in keys:
        assert not ApiToken.objects.filter(digest=key).exists()
        assert all(key not in (t.digest + t.prefix) or len(t.prefix) < len(key) for t in ApiToken.objects.all())
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert api.get("/api/v1/me").json()["username"] == "hashed"
    api.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    assert api.get("/api/v1/me").status_code == 401
    # No table anywhere holds a clear key.
    with connection.cursor() as cursor:
        for model in apps.get_models():
            text_fields = [f.column for f in model._meta.concrete_fields if f.get_internal_type() in
                           ("CharField", "TextField")]
            for column in text_fields:
                cursor.execute(f'SELECT COUNT(*) FROM "{model._meta.db_table}" WHERE "{column}" = %s', [keys[0]])
                assert cursor.fetchone()[0] == 0, (model, column)


def test_existing_clear_tokens_are_migrated_to_digests(make_user):
    import importlib

    migration = importlib.import_module("accounts.migrations.0002_api_token_hashed")
    user = make_user("bidder")
    key = "a" * 40
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id bigint)")
        cursor.execute("INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, NULL, %s)", [key, user.pk])
    with connection.schema_editor(atomic=False) as editor:
        migration.hash_clear_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    from accounts.tokens import token_user

    assert token_user(key) == user
    assert not ApiToken.objects.filter(digest=key).exists()


def test_back_office_login_is_an_audit_event(make_user):
    make_user("platform_admin", username="backoffice", is_staff=True, is_superuser=True)
    response = Client().post("/admin/login/?next=/admin/", {"username": "backoffice", "password": "correct-horse-9"})
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="auth.login").latest("seq")
    assert event.data.get("back_office") is True


def test_back_office_add_and_delete_are_audit_events(superuser_client, make_user):
    victim = make_user("bidder")
    response = superuser_client.post(f"/admin/accounts/user/{victim.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deleted = AuditEvent.objects.get(action="admin.deleted")
    assert deleted.object == f"accounts.user:{victim.pk}"
    response = superuser_client.post("/admin/auth/group/add/", {"name": "Desk"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="admin.added", object__startswith="auth.group:").exists()


def test_back_office_bulk_delete_is_audited_per_object(superuser_client):
    from django.contrib.auth.models import Group

    groups = [Group.objects.create(name=f"Bulk {i}") for i in range(3)]
    response = superuser_client.post("/admin/auth/group/", {
        "action": "delete_selected", "post": "yes", "_selected_action": [g.pk for g in groups]})
    assert response.status_code == 302
    assert not Group.objects.filter(pk__in=[g.pk for g in groups]).exists()
    objects = set(AuditEvent.objects.filter(action="admin.deleted").values_list("object", flat=True))
    assert objects == {f"auth.group:{g.pk}" for g in groups}
