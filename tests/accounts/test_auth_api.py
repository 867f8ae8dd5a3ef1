import pytest
from django.test import override_settings

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_token_login_and_me(api, make_user):
    user = make_user("bidder", username="alice")
    response = api.post("/api/v1/auth/token", {"username": "alice", "password": "correct-horse-9"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me").json()
    assert me["username"] == "alice" and me["roles"] == ["bidder"]
    assert me["organisation"]["id"] == user.organisation_id
    login = AuditEvent.objects.filter(action="auth.login").get()
    assert login.actor == str(user.pk)
    assert "correct-horse-9" not in str(AuditEvent.objects.values_list("data", flat=True))


def test_wrong_password_is_401_json_and_audited(api, make_user):
    make_user("bidder", username="bob")
    err = _error(api.post("/api/v1/auth/token", {"username": "bob", "password": "nope"}, format="json"), 401,
                 "authentication_failed")
    assert "Wrong username or password" in err["message"]
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.data["username"] == "bob" and "nope" not in str(failed.data)


@override_settings(AXES_FAILURE_LIMIT=3)
def test_login_rate_limited_even_with_right_password(api, make_user):
    make_user("bidder", username="carol")
    for _ in range(3):
        api.post("/api/v1/auth/token", {"username": "carol", "password": "bad"}, format="json")
    _error(api.post("/api/v1/auth/token", {"username": "carol", "password": "correct-horse-9"}, format="json"),
           429, "login_locked")


@override_settings(AXES_FAILURE_LIMIT=3)
def test_session_login_page_rate_limited(client, make_user):
    make_user("bidder", username="dave")
    for _ in range(3):
        client.post("/accounts/login/", {"username": "dave", "password": "bad"})
    response = client.post("/accounts/login/", {"username": "dave", "password": "correct-horse-9"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_session_login_works(client, make_user):
    make_user("agent", username="erin")
    response = client.post("/accounts/login/", {"username": "erin", "password": "correct-horse-9"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(("method", "path", "payload", "status", "code"), [
    ("get", "/api/v1/me", None, 401, "not_authenticated"),
    ("get", "/api/v1/no-such-endpoint", None, 404, "not_found"),
    ("get", "/api/v1/auth/token", None, 405, "method_not_allowed"),
    ("post", "/api/v1/auth/token", {"username": "x"}, 400, "invalid"),
])
def test_every_4xx_has_the_error_shape(api, method, path, payload, status, code):
    response = getattr(api, method)(path, payload, format="json") if payload else getattr(api, method)(path)
    err = _error(response, status, code)
    if status == 400:
        assert "password" in err["fields"]


def test_malformed_json_is_400(api):
    response = api.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    _error(response, 400, "parse_error")
