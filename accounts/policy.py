"""Object-level permissions: the one place every check goes through.

A rule is a function `(user, obj) -> bool` registered under an action name such
as "tender.edit". Each app declares its rules in its `policies.py` (imported by
its AppConfig); views, consumers, serializers and services ask `can(...)` or
`authorize(...)`, never check roles inline. Unknown actions are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accounts.roles import Role
from config.errors import NotPermitted

Rule = Callable[[Any, Any], bool]
_RULES: dict[str, Rule] = {}


def rule(action: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        if action in _RULES and _RULES[action] is not fn:
            raise RuntimeError(f"policy rule {action!r} registered twice")
        _RULES[action] = fn
        return fn

    return register


def can(user: Any, action: str, obj: Any = None) -> bool:
    check = _RULES.get(action)
    if check is None:
        raise KeyError(f"no policy rule for {action!r}")
    if user is None or not getattr(user, "is_active", False):
        # Anonymous users reach only rules that accept them explicitly.
        return bool(check(user, obj)) if getattr(check, "public", False) else False
    return bool(check(user, obj))


def authorize(user: Any, action: str, obj: Any = None) -> None:
    if not can(user, action, obj):
        raise NotPermitted("You are not allowed to do this.", code="permission_denied")


def public(fn: Rule) -> Rule:
    """Mark a rule as one anonymous visitors may pass (政务公开)."""
    fn.public = True  # type: ignore[attr-defined]
    return fn


def has_role(user: Any, role: Role | str) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.has_role(str(role)))


def same_org(user: Any, org_id: int | None) -> bool:
    return bool(org_id and getattr(user, "organisation_id", None) == org_id)
