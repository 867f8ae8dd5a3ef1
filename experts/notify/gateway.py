"""SMS and voice calls through an HTTP gateway: one signed JSON POST per message.

Request (POST `EXPERTS_SMS_GATEWAY_URL`, headers of experts/notify/webhook.py):

    {"id": "<notification id>", "channel": "sms"|"voice", "to": "13800000001", "text": "...",
     "ref": "<reply reference>", "reply_code": "AB12CD", "respond_by": "<RFC 3339>",
     "reply_url": "https://.../api/v1/experts/gateway/inbound"}

The gateway answers 2xx (optionally {"id": "<its message id>"}); it later posts replies to
`reply_url`: {"id": "<unique message id>", "channel": "sms"|"voice", "from": "<phone>",
"text": "1 AB12CD", "ref": "<reply reference, voice calls>"} signed with the same secret.
experts/simulator/ is a gateway for demos and tests.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from django.conf import settings

from experts.identity import gateway_secret
from experts.notify.base import Backend, Message, NotConfigured, SendResult
from experts.notify.webhook import signed_headers


class GatewayError(Exception):
    pass


def gateway_url() -> str:
    return getattr(settings, "EXPERTS_SMS_GATEWAY_URL", None) or os.environ.get("EXPERTS_SMS_GATEWAY_URL", "")


def gateway_timeout() -> float:
    return float(getattr(settings, "EXPERTS_GATEWAY_TIMEOUT", 5))


def message_body(message: Message) -> bytes:
    return json.dumps({
        "id": message.id, "channel": message.channel, "to": message.to, "text": message.text, "ref": message.ref,
        "reply_code": message.reply_code, "respond_by": message.respond_by.isoformat(),
        "reply_url": message.reply_url,
    }, ensure_ascii=False, sort_keys=True).encode("utf-8")


class SmsGatewayBackend(Backend):
    channel = "sms"

    def send(self, message: Message) -> SendResult:
        url = gateway_url()
        if not url:
            raise NotConfigured("EXPERTS_SMS_GATEWAY_URL is not set")
        if not url.startswith(("http://", "https://")):
            raise NotConfigured("EXPERTS_SMS_GATEWAY_URL must be an http(s) URL")
        body = message_body(message)
        request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 (scheme checked above)
                                         headers=signed_headers(gateway_secret(), body))
        try:
            with urllib.request.urlopen(request, timeout=gateway_timeout()) as response:  # noqa: S310
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"gateway answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise GatewayError(f"gateway unreachable: {exc}") from None
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        return SendResult(external_id=str(answer.get("id", ""))[:100] if isinstance(answer, dict) else "")


class VoiceGatewayBackend(SmsGatewayBackend):
    """Same gateway, `channel: "voice"`: the gateway calls and reads the text; the key pressed comes back
    as a reply with the call's `ref`."""

    channel = "voice"
