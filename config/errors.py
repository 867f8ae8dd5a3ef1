"""The one exception type that services raise for a refused business action.

Views turn it into the SPECS.md §3 JSON error with its 4xx status; pages show
its message. `code` is stable and machine-readable; `message` names the rule and,
where there is one, its legal source.
"""

from __future__ import annotations

from typing import Any

from config.citations import cite


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None,
                 status: int | None = None) -> None:
        message = cite(str(message))  # "招标投标法第23条" in Chinese messages (config/citations.py)
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields or {}


class RuleViolation(DomainError):
    """A legal rule refused the action; the message carries its source."""

    status = 400
    code = "rule_violation"


class StateConflict(DomainError):
    """The object is not in a state that allows the action (e.g. illegal transition)."""

    status = 409
    code = "conflict"


class NotPermitted(DomainError):
    status = 403
    code = "permission_denied"


class NotFoundError(DomainError):
    status = 404
    code = "not_found"
