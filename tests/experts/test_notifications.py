"""Calls and answers: email with signed links, the SMS/voice gateway over real HTTP (the simulator and a
live server), the inbound webhook's HMAC and replay protection."""

import json
import re
import time
import urllib.error
import urllib.request

import pytest
from django.core import mail, signing

from audit.models import AuditEvent
from experts.identity import gateway_secret
from experts.models import AssignmentStatus, DrawStatus, InboundMessage, Notification, NotificationStatus
from experts.notify.links import response_token
from experts.notify.webhook import signed_headers
from experts.services.notifications import notification_send
from experts.services.replies import parse_reply
from experts.simulator.server import GatewaySimulator

S = AssignmentStatus


@pytest.fixture
def email_pool(make_expert, settings):
    settings.EXPERTS_NOTIFY_CHANNELS = ["email"]
    settings.EXPERTS_PUBLIC_BASE_URL = "http://testserver"
    return [make_expert("A0201", email=f"road{i}@example.cn") for i in range(5)] + \
        [make_expert("D0101", email=f"cost{i}@example.cn") for i in range(3)]


@pytest.mark.django_db
def test_email_call_and_signed_links(world, email_pool, draw_now, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draw = draw_now()
    assert len(mail.outbox) == 5
    message = mail.outbox[0]
    assert world.tender.code in message.subject and "/expert/respond/" in message.body
    accept, _decline = re.findall(r"http://testserver(/expert/respond/[^/\s]+/)", message.body)
    path = accept
    page = client.get(path)
    assert page.status_code == 200  # a GET (link preview) never answers
    assignment = draw.assignments.get(expert__email=message.to[0])
    assert assignment.status == S.NOTIFIED
    assert client.post(path).status_code == 200
    assignment.refresh_from_db()
    assert assignment.status == S.ACCEPTED and assignment.response_via == "link"
    assert "no longer open" in client.get(path).content.decode()
    assert Notification.objects.filter(status=NotificationStatus.SENT, channel="email").count() == 5
    assert AuditEvent.objects.filter(action="expert_notification.sent").count() == 5


@pytest.mark.django_db
def test_decline_link_and_bad_or_expired_tokens(world, email_pool, draw_now, client, monkeypatch):
    draw = draw_now()
    assignment = draw.assignments.filter(status=S.NOTIFIED).first()
    token = response_token(assignment, "decline")
    assert client.post(f"/expert/respond/{token}/").status_code == 200
    assignment.refresh_from_db()
    assert assignment.status == S.DECLINED
    assert client.get(f"/expert/respond/{token[:-2]}xx/").status_code == 400
    other = draw.assignments.filter(status=S.NOTIFIED).first()
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 86400)
    old = response_token(other, "accept")
    monkeypatch.setattr(signing.time, "time", real_time)
    assert client.get(f"/expert/respond/{old}/").status_code == 410
    other.refresh_from_db()
    assert other.status == S.NOTIFIED


def _post_inbound(client, payload, *, secret=None, now=None, tamper=False):
    body = json.dumps(payload).encode()
    headers = signed_headers(secret or gateway_secret(), body, now=now)
    if tamper:
        body = body.replace(b"1", b"2", 1)
    return client.generic("POST", "/api/v1/experts/gateway/inbound", body, content_type="application/json",
                          headers={k: v for k, v in headers.items() if k != "Content-Type"})


@pytest.mark.django_db
def test_inbound_webhook_signature_replay_and_matching(world, pool, draw_now, client):
    draw = draw_now()
    a, b = list(draw.assignments.filter(status=S.NOTIFIED).select_related("expert"))[:2]
    payload = {"id": "gw-1", "channel": "sms", "from": "+86" + a.expert.phone, "text": f"1 {a.reply_code}"}
    assert _post_inbound(client, payload, secret=b"wrong").status_code == 401
    assert _post_inbound(client, payload, tamper=True).status_code == 401
    assert _post_inbound(client, payload, now=time.time() - 3600).status_code == 401
    response = _post_inbound(client, payload)
    assert response.status_code == 200 and response.json()["outcome"] == "accepted"
    a.refresh_from_db()
    assert a.status == S.ACCEPTED and a.response_via == "sms"
    replay = _post_inbound(client, payload)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "replayed"
    # a voice answer carries the call's reference
    voice = _post_inbound(client, {"id": "gw-2", "channel": "voice", "from": "", "text": "2",
                                   "ref": b.response_nonce})
    assert voice.json()["outcome"] == "declined"
    assert _post_inbound(client, {"id": "gw-3", "from": "13000000000", "text": "1"}).json()["outcome"] \
        == "ignored: no open call matches"
    assert _post_inbound(client, {"id": "gw-4", "from": a.expert.phone, "text": "hello"}).json()["outcome"] \
        == "ignored: not an answer"
    assert _post_inbound(client, {"id": ""}).status_code == 400
    assert InboundMessage.objects.count() == 4
    assert AuditEvent.objects.filter(action="expert_reply.received").count() == 4


def test_parse_reply():
    assert parse_reply("1 ab12cd") == ("accept", "ab12cd")
    assert parse_reply(" 拒绝 ") == ("decline", "")
    assert parse_reply("Y") == ("accept", "")
    assert parse_reply("maybe") == (None, "")


@pytest.mark.django_db
def test_unconfigured_and_failing_gateway(world, pool, draw_now, settings):
    settings.EXPERTS_NOTIFY_CHANNELS = ["sms"]
    settings.EXPERTS_SMS_GATEWAY_URL = ""
    draw = draw_now()
    note = Notification.objects.filter(assignment__draw=draw).first()
    assert notification_send(notification_id=note.pk).status == NotificationStatus.SKIPPED
    settings.EXPERTS_SMS_GATEWAY_URL = "http://127.0.0.1:9/send"  # discard port: nobody listens
    settings.EXPERTS_GATEWAY_TIMEOUT = 1
    note = Notification.objects.filter(assignment__draw=draw, status=NotificationStatus.QUEUED).first()
    for _ in range(2):
        assert notification_send(notification_id=note.pk).status == NotificationStatus.QUEUED
    note = notification_send(notification_id=note.pk)
    assert note.status == NotificationStatus.FAILED and note.attempts == 3 and "unreachable" in note.error
    assert AuditEvent.objects.filter(action="expert_notification.failed").count() == 3


def test_simulator_refuses_unsigned_requests():
    sim = GatewaySimulator(secret=b"k", policy="silent").start()
    try:
        request = urllib.request.Request(sim.url + "/send", data=b"{}", method="POST")  # noqa: S310
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=5)  # noqa: S310
        assert err.value.code == 401
        body = b'{"to": "1"}'
        request = urllib.request.Request(sim.url + "/send", data=body, method="POST",  # noqa: S310
                                         headers=signed_headers(b"k", body))
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert json.loads(response.read())["id"] == "sim-1"
    finally:
        sim.stop()


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def gateway(settings, live_server):
    sim = GatewaySimulator(secret=gateway_secret(), policy="accept", delay=0.05).start()
    settings.EXPERTS_NOTIFY_CHANNELS = ["sms"]
    settings.EXPERTS_SMS_GATEWAY_URL = sim.url + "/send"
    settings.EXPERTS_PUBLIC_BASE_URL = live_server.url
    yield sim
    sim.stop()


@pytest.mark.django_db(transaction=True)
def test_sms_round_trip_over_http(gateway, live_server, world, pool, draw_now):
    """The platform POSTs signed SMS to the simulator, which answers "1 <code>" to the live server."""
    draw = draw_now()
    assert _wait(lambda: draw.assignments.filter(status=S.ACCEPTED).count() == 5)
    draw.refresh_from_db()
    assert draw.status == DrawStatus.COMPLETE
    assert len(gateway.messages) == 5 and all(m["channel"] == "sms" for m in gateway.messages)
    assert all(r["status"] == 200 and r["body"]["outcome"] == "accepted" for r in gateway.replies)
    assert {m["to"] for m in gateway.messages} == set(
        draw.assignments.filter(status=S.ACCEPTED).values_list("expert__phone", flat=True))
    assert all(m["reply_url"].startswith(live_server.url) for m in gateway.messages)


@pytest.mark.django_db(transaction=True)
def test_declines_over_http_promote_reserves_then_redraw_until_exhausted(gateway, live_server, world, make_expert,
                                                                         draw_now):
    gateway.policy = "decline"
    for _ in range(4):
        make_expert("A0201")
    for _ in range(3):
        make_expert("D0101")
    draw = draw_now()
    assert _wait(lambda: not draw.assignments.filter(status=S.NOTIFIED).exists()
                 and draw.assignments.filter(status=S.DECLINED).count() == 7)
    draw.refresh_from_db()
    assert draw.status == DrawStatus.EXHAUSTED and draw.warnings.count() == 5
    assert draw.assignments.filter(drawn_as="reserve", status=S.DECLINED).count() == 2
    assert AuditEvent.objects.filter(action="expert_draw.pool_exhausted").count() == 5


@pytest.mark.django_db(transaction=True)
def test_voice_call_answered_by_key(gateway, live_server, world, pool, draw_now, settings):
    settings.EXPERTS_NOTIFY_CHANNELS = ["voice"]
    draw = draw_now()
    assert _wait(lambda: draw.assignments.filter(status=S.ACCEPTED).count() == 5)
    assert all(r["reply"]["channel"] == "voice" and r["reply"]["ref"] for r in gateway.replies)
