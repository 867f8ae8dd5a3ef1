"""Room commands: one table shared by the WebSocket consumer and the HTTP API.

Every command is a JSON object {"type": <command>, ...}; an input serializer validates
it and one service runs it (authorization is inside the services, through
trading/opening/policies.py). The result is a small JSON object; refusals are
DomainErrors (code, message naming the rule).

    sign_in                                  bidder: sign in to the room
    release_dek        {bid, dek}            bidder: release the envelope's DEK (base64)
    confirm                                  bidder: confirm the read-out
    raise_objection    {text}                bidder: object to the opening
    answer_objection   {objection, answer}   host (agent): answer an objection
    advance                                  host: move on early where legal
    mark_fallback      {bid, reason}         host: not the bidder's fault → custodians open it
    close                                    host: close the opening (all objections answered)
    submit_share       {share}               custodian: a released share (after the deadline)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from audit.canonical import normalize
from config.errors import DomainError
from trading.models import Tender
from trading.opening import services as sv


class Empty(serializers.Serializer):
    pass


class ReleaseDek(serializers.Serializer):
    bid = serializers.UUIDField(help_text="The bid's public id (as keyed in the room state).")
    dek = serializers.CharField(max_length=100, trim_whitespace=True)


class RaiseObjection(serializers.Serializer):
    text = serializers.CharField(max_length=sv.MAX_TEXT)


class AnswerObjection(serializers.Serializer):
    objection = serializers.IntegerField()
    answer = serializers.CharField(max_length=sv.MAX_TEXT)


class MarkFallback(serializers.Serializer):
    bid = serializers.UUIDField(help_text="The bid's public id (as keyed in the room state).")
    reason = serializers.CharField(max_length=300)


class SubmitShare(serializers.Serializer):
    share = serializers.JSONField(help_text="the released share {v,x,k,opening_key_id,y} (object or JSON text)")


@dataclass(frozen=True)
class Command:
    input: type[serializers.Serializer]
    run: Callable[..., dict]


def _sign_in(user, tender, data):
    s = sv.opening_sign_in(actor=user, tender=tender)
    return {"organisation": s.organisation_id, "signed_in_at": s.signed_in_at}


def _release(user, tender, data):
    bo = sv.bid_dek_release(actor=user, tender=tender, bid_id=data["bid"], dek=data["dek"])
    return {"bid": str(bo.bid.public_id), "status": bo.status, "outcome": bo.outcome or None}


def _confirm(user, tender, data):
    c = sv.opening_confirm(actor=user, tender=tender)
    return {"organisation": c.organisation_id, "kind": c.kind}


def _raise(user, tender, data):
    o = sv.opening_objection_raise(actor=user, tender=tender, text=data["text"])
    return {"objection": o.pk}


def _answer(user, tender, data):
    o = sv.opening_objection_answer(actor=user, tender=tender, objection_id=data["objection"], answer=data["answer"])
    return {"objection": o.pk}


def _advance(user, tender, data):
    return {"state": sv.opening_advance(actor=user, tender=tender).state}


def _fallback(user, tender, data):
    bo = sv.bid_mark_fallback(actor=user, tender=tender, bid_id=data["bid"], reason=data["reason"])
    return {"bid": str(bo.bid.public_id), "status": bo.status}


def _close(user, tender, data):
    return {"state": sv.opening_close(actor=user, tender=tender).state}


def _share(user, tender, data):
    release = sv.share_submit(actor=user, tender=tender, share=data["share"])
    return {"share_sha256": release.share_sha256}


COMMANDS: dict[str, Command] = {
    "sign_in": Command(Empty, _sign_in),
    "release_dek": Command(ReleaseDek, _release),
    "confirm": Command(Empty, _confirm),
    "raise_objection": Command(RaiseObjection, _raise),
    "answer_objection": Command(AnswerObjection, _answer),
    "advance": Command(Empty, _advance),
    "mark_fallback": Command(MarkFallback, _fallback),
    "close": Command(Empty, _close),
    "submit_share": Command(SubmitShare, _share),
}


def _first_error(errors: dict) -> str:
    key, value = next(iter(errors.items()))
    return f"{key}: {value[0] if isinstance(value, list) else value}"


def opening_command(*, user: Any, tender: Tender, content: dict) -> dict:
    """Validate and run one room command; returns its result or raises DomainError."""
    name = content.get("type")
    command = COMMANDS.get(name)
    if command is None:
        raise DomainError(f"unknown command {name!r}; one of: {', '.join(COMMANDS)}", code="unknown_command")
    if user is None or not getattr(user, "is_authenticated", False):
        raise DomainError("log in (session or Authorization: Token) to act in the room", code="not_authenticated",
                          status=401)
    ser = command.input(data={k: v for k, v in content.items() if k not in ("type", "ref")})
    if not ser.is_valid():
        raise DomainError(_first_error(ser.errors), code="invalid", fields=ser.errors)
    return normalize(command.run(user, tender, ser.validated_data))
