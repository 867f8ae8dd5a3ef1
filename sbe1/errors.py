"""Errors raised by the SBE1 package.

Every error carries a stable machine-readable ``code`` (the same codes are used by the
browser module ``sbe1.js``) and a human-readable message. The platform can map codes to
API error responses; see docs/sbe1.md for the full list.
"""

from __future__ import annotations


class SBE1Error(Exception):
    """Base class. ``code`` is a short stable identifier such as ``"bad_magic"``."""

    default_code = "sbe1_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code

    def __str__(self) -> str:
        return f"{self.args[0]} [{self.code}]"


class FormatError(SBE1Error):
    """The envelope, its header or a JSON container is malformed or unsupported."""

    default_code = "header_invalid"


class HeaderMismatchError(SBE1Error):
    """A well-formed header does not name the expected tender, lot, bidder or keys."""

    default_code = "header_mismatch"


class DecryptionError(SBE1Error):
    """Authentication failed: wrong key, tampering, truncation, re-ordering."""

    default_code = "chunk_auth_failed"


class ManifestError(SBE1Error):
    """The decrypted plaintext does not match its manifest (or the manifest is invalid)."""

    default_code = "manifest_invalid"


class KeyFileError(SBE1Error):
    """A key file is malformed, or the password is wrong."""

    default_code = "keyfile_invalid"


class InvalidKeyError(SBE1Error):
    """A public or private key is not a valid P-256 key in the expected encoding."""

    default_code = "bad_key"


class SignatureError(SBE1Error):
    """A detached envelope signature is malformed or does not verify."""

    default_code = "bad_signature"


class ShamirError(SBE1Error):
    """Secret sharing: invalid parameters, bad/duplicate shares, too few shares."""

    default_code = "shamir_invalid"
