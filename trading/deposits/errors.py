"""Errors of the Django-free deposit modules; the services turn them into DomainErrors."""

from __future__ import annotations


class DepositFormatError(ValueError):
    """Input from outside (a bank message, a statement line, a guarantee letter) is malformed.

    `code` is stable and machine-readable, `field` names the offending field where there is one.
    """

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class SignatureRefused(DepositFormatError):
    """A bank message's or a guarantee letter's signature is missing, stale, forged or unknown."""
