"""Hashed API tokens (docs/accounts.md, "API tokens").

`Authorization: Token <key>` as before (rest_framework's keyword), but the database keeps
only `sha256(key)`: a back-office user or a DBA reading the table cannot act as anyone.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken, User
from audit.services import audit_record


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@transaction.atomic
def token_issue(*, user: User) -> str:
    """Create a token for `user` and return its clear key (the only time it exists in clear)."""
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(user=user, digest=token_digest(key), prefix=key[:8])
    audit_record(actor=user, action="auth.token_issued", obj=user, data={"token_id": token.pk, "prefix": token.prefix})
    return key


def token_user(key: str | None) -> User | None:
    """The active user owning token `key`, or None."""
    if not key or len(key) > 128:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


class HashedTokenAuthentication(TokenAuthentication):
    """DRF authentication for `Authorization: Token <key>` against hashed tokens."""

    def authenticate_credentials(self, key):
        user = token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return (user, None)
