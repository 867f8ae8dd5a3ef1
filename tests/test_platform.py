"""Smoke tests of the running platform: schema, admin, pages, demo seed."""

import pytest
from django.core.management import call_command

from accounts.models import Organisation, User
from audit.selectors import chain_verify

pytestmark = pytest.mark.django_db


def test_openapi_schema_and_docs(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_admin_answers(client):
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_home_page_in_both_languages(client, lang):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    assert f'lang="{lang}"' in response.content.decode()


def test_seed_demo_is_idempotent_and_logins_work(client, capsys):
    call_command("seed_demo")
    counts = (Organisation.objects.count(), User.objects.count())
    call_command("seed_demo")
    assert (Organisation.objects.count(), User.objects.count()) == counts
    assert User.objects.filter(role_grants__role="expert").count() == 60
    for role in ["tenderer", "agent", "bidder", "supervisor", "platform_admin", "custodian"]:
        assert User.objects.filter(role_grants__role=role).exists(), role
    out = capsys.readouterr().out
    assert "ptrade-demo-2026" in out and "bidder1" in out
    response = client.post("/accounts/login/", {"username": "agent1", "password": "ptrade-demo-2026"})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert chain_verify().ok
