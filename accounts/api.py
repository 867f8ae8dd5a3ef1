from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttles import LoginThrottle
from accounts.tokens import token_issue
from config.api import validated
from config.errors import DomainError


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class TokenView(APIView):
    """Exchange username and password for an API token (rate-limited by django-axes)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [LoginThrottle]

    @extend_schema(request=TokenInput, responses=inline_serializer("TokenOutput", {"token": serializers.CharField()}))
    def post(self, request):
        credentials = validated(TokenInput, request.data)
        # authenticate() passes through django-axes, which counts failures and locks out.
        user = authenticate(request._request, **credentials)
        if getattr(request._request, "axes_locked_out", False):
            raise DomainError("Too many failed login attempts; try again later.", code="login_locked", status=429)
        if user is None:
            raise DomainError("Wrong username or password.", code="authentication_failed", status=401)
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        # Stored hashed: the key exists in clear only in this response (docs/accounts.md).
        return Response({"token": token_issue(user=user)})


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")
    organisation = serializers.SerializerMethodField()
    roles = serializers.ListField(child=serializers.CharField())

    def get_organisation(self, user) -> dict | None:
        org = user.organisation
        return {"id": org.pk, "name": org.name, "uscc": org.uscc} if org else None


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeOutput)
    def get(self, request):
        return Response(MeOutput(request.user).data)
